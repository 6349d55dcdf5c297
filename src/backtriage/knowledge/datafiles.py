"""One way to read every versioned data folder: the knowledge base and each language's text
resources.

A folder is a fixed set of YAML or JSON files, each a mapping with known top-level keys. Reading
collects every problem (missing file, bad syntax, unknown or missing key, entry that does not fit
its typed shape) before failing with one `KnowledgeBaseError`, and hashes the bytes read so each
result can say exactly which data made it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from backtriage.errors import KnowledgeBaseError

__all__ = ["DataFolder", "read_data_folder", "validate_many", "validate_one"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class DataFolder:
    """The parsed files of a folder (file name -> top-level mapping) and their content hash."""

    files: dict[str, dict[str, Any]]
    content_hash: str


def read_data_folder(
    folder: Path, layout: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> DataFolder:
    """Read the files `layout` names: file name -> (required keys, optional keys)."""
    if not folder.is_dir():
        raise KnowledgeBaseError([f"{folder}: not a folder"])
    problems: list[str] = []
    files: dict[str, dict[str, Any]] = {}
    digest = hashlib.sha256()
    for name, (required, optional) in layout.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: file is missing")
            continue
        data = path.read_bytes()
        digest.update(name.encode() + b"\0" + data + b"\0")
        parsed = _parse(name, data, problems)
        if parsed is None:
            continue
        if not isinstance(parsed, dict):
            problems.append(f"{name}: expected a mapping with keys {', '.join(required)}")
            continue
        unknown = sorted(set(parsed) - set(required) - set(optional))
        missing = [k for k in required if k not in parsed]
        if unknown:
            problems.append(f"{name}: unknown top-level key(s) {', '.join(unknown)}")
        if missing:
            problems.append(f"{name}: missing top-level key(s) {', '.join(missing)}")
        files[name] = parsed
    if problems:
        raise KnowledgeBaseError(problems)
    return DataFolder(files=files, content_hash=digest.hexdigest())


def _parse(name: str, data: bytes, problems: list[str]) -> Any:
    if name.endswith(".json"):
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            problems.append(f"{name} line {exc.lineno}: not valid JSON ({exc.msg})")
            return None
    try:
        return yaml.load(data, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problems.append(f"{name}{where}: not valid YAML ({getattr(exc, 'problem', exc)})")
        return None


#: libyaml's parser when PyYAML was built with it (several times faster), else the Python one;
#: both construct only plain data.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (the
    plain loader keeps the last one without a word)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' is given twice", key_node.start_mark
            )
        seen.add(key)
    return dict(loader.construct_mapping(node))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def validate_one(model: type[M], data: Any, where: str, problems: list[str]) -> M | None:
    """`data` as `model`, or None with its problems added (each prefixed with `where`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(f"{where}: {msg}" for msg in _messages(exc))
        return None


def validate_many(model: type[M], data: Any, file: str, key: str, problems: list[str]) -> list[M]:
    """A list of `model` entries; each bad entry adds its problems, named by index and id."""
    if not isinstance(data, list):
        problems.append(f"{file}: '{key}' must be a list")
        return []
    out: list[M] = []
    for i, item in enumerate(data):
        ident = item.get("id") if isinstance(item, dict) else None
        where = f"{file}: {key}[{i}]" + (f" (id '{ident}')" if ident else "")
        parsed = validate_one(model, item, where, problems)
        if parsed is not None:
            out.append(parsed)
    return out


def _messages(exc: ValidationError) -> Iterable[str]:
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        yield f"{loc}: {msg}" if loc else msg
