"""Load and validate the text resources: lexicon, ConText rules and section rules.

Like the knowledge base these are versioned data files, checked on load; a pattern that does not
compile, a finding the knowledge base lacks, or an unknown ConText category is an error that
names the file and the entry.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backtriage.errors import KnowledgeBaseError
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base

__all__ = ["ABSENT_SUFFIX", "ContextRuleSpec", "TargetSpec", "TextResources", "load_text_resources"]

_FRAGMENT = re.compile(r"\{([A-Z_]+)\}")

_UPPER_LITERAL = re.compile(r"(?<!\\)[A-Z]")

#: Target labels ending in this mark phrases that deny the finding ("afebrile" for fever).
ABSENT_SUFFIX = "__absent"

#: ConText categories and the span attribute each sets.
CONTEXT_CATEGORIES: dict[str, str | None] = {
    "NEGATED_EXISTENCE": "is_negated",
    "POSSIBLE_EXISTENCE": "is_uncertain",
    "HISTORICAL": "is_historical",
    "HYPOTHETICAL": "is_hypothetical",
    "FAMILY": "is_family",
    "OTHER_EXPERIENCER": "is_other_experiencer",
    # Markers that only end the scope of experiencer modifiers ("... and I have ...").
    "PATIENT_EXPERIENCER": None,
    "CONJ": None,
    "PSEUDO": None,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSpec(_Strict):
    region: str | None = None
    patterns: list[str] = Field(min_length=1)
    absent_patterns: list[str] = Field(
        default_factory=list,
        description="Phrases that by themselves say the finding is absent ('continent', 'afebrile').",
    )


class Lexicon(_Strict):
    vocabulary: dict[str, str] = Field(default_factory=dict)
    vocabulary_note: str | None = None
    targets: dict[str, TargetSpec]


class ContextRuleSpec(_Strict):
    """One ConText rule, in medspaCy's JSON shape (plus an optional ``max_scope``)."""

    category: str
    literal: str = Field(min_length=1)
    direction: str
    pattern: list[dict[str, Any]] | str | None = None
    max_scope: int | None = Field(default=None, ge=1)
    terminated_by: list[str] | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CONTEXT_CATEGORIES:
            raise ValueError(f"unknown ConText category '{value}'")
        return value

    @field_validator("direction")
    @classmethod
    def _known_direction(cls, value: str) -> str:
        if value not in ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"):
            raise ValueError(f"unknown ConText direction '{value}'")
        return value


class SectionRuleSpec(_Strict):
    category: str = Field(pattern=r"^[a-z_]+$")
    literal: str = Field(min_length=1)
    pattern: list[dict[str, Any]] | str | None = None
    max_scope: int | None = Field(default=None, ge=1, description="Longest section, in tokens.")


@dataclass(frozen=True)
class TextResources:
    version: str
    content_hash: str
    targets: dict[str, list[str]]  # label -> regular expressions; see ABSENT_SUFFIX
    regions: dict[str, str]  # finding id -> body region
    context_rules: tuple[ContextRuleSpec, ...]
    replaced_default_context: frozenset[str]  # medspaCy default literals we redefine
    section_rules: tuple[SectionRuleSpec, ...]


def data_dir() -> Path:
    return Path(str(resources.files("backtriage.text") / "data"))


@lru_cache(maxsize=1)
def _default() -> TextResources:
    return _load(data_dir(), load_knowledge_base())


def load_text_resources(
    folder: str | Path | None = None, kb: KnowledgeBase | None = None
) -> TextResources:
    if folder is None and kb is None:
        return _default()
    return _load(Path(folder) if folder else data_dir(), kb or load_knowledge_base())


def _load(folder: Path, kb: KnowledgeBase) -> TextResources:
    problems: list[str] = []
    digest = hashlib.sha256()

    def read(name: str) -> Any:
        path = folder / name
        try:
            raw = path.read_bytes()
        except OSError:
            problems.append(f"{name}: file is missing")
            return None
        digest.update(name.encode() + b"\0" + raw + b"\0")
        try:
            return json.loads(raw) if name.endswith(".json") else yaml.safe_load(raw)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            problems.append(f"{name}: cannot be parsed ({exc})")
            return None

    manifest = read("manifest.yaml")
    lexicon_raw = read("lexicon.yaml")
    context_raw = read("context_rules.json")
    section_raw = read("section_rules.json")
    if problems:
        raise KnowledgeBaseError(problems)

    version = str((manifest or {}).get("manifest", {}).get("version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append("manifest.yaml: manifest.version must look like 1.2.3")

    try:
        lexicon = Lexicon.model_validate(lexicon_raw)
    except ValidationError as exc:
        raise KnowledgeBaseError([f"lexicon.yaml: {e['loc']}: {e['msg']}" for e in exc.errors()]) from None

    targets: dict[str, list[str]] = {}
    regions: dict[str, str] = {}
    for fid, spec in lexicon.targets.items():
        if fid not in kb.findings:
            problems.append(f"lexicon.yaml: '{fid}' is not a finding in the knowledge base")
            continue
        if kb.findings[fid].derived_from is not None:
            problems.append(f"lexicon.yaml: '{fid}' is derived from age or sex, not read from text")
        for label, patterns in ((fid, spec.patterns), (fid + ABSENT_SUFFIX, spec.absent_patterns)):
            expanded = []
            for pattern in patterns:
                try:
                    text = _FRAGMENT.sub(lambda m: lexicon.vocabulary[m.group(1)], pattern)
                    re.compile(text)
                    if _UPPER_LITERAL.search(text):
                        problems.append(
                            f"lexicon.yaml: '{fid}': write patterns in lower case; they are "
                            "matched against lower-cased text")
                        continue
                except KeyError as exc:
                    problems.append(f"lexicon.yaml: '{fid}': unknown fragment {{{exc.args[0]}}}")
                    continue
                except re.error as exc:
                    problems.append(f"lexicon.yaml: '{fid}': pattern does not compile ({exc})")
                    continue
                expanded.append(rf"(?<![\w/])(?:{text})(?![\w])")
            if expanded:
                targets[label] = expanded
        if spec.region:
            regions[fid] = spec.region

    context_rules = _many(ContextRuleSpec, (context_raw or {}).get("context_rules"),
                          "context_rules.json", problems)
    replaced = (context_raw or {}).get("replace_defaults", [])
    if not isinstance(replaced, list) or not all(isinstance(x, str) for x in replaced):
        problems.append("context_rules.json: replace_defaults must be a list of literals")
        replaced = []
    section_rules = _many(SectionRuleSpec, (section_raw or {}).get("section_rules"),
                          "section_rules.json", problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return TextResources(
        version=version,
        content_hash=digest.hexdigest(),
        targets=targets,
        regions=regions,
        context_rules=tuple(context_rules),
        replaced_default_context=frozenset(x.lower() for x in replaced),
        section_rules=tuple(section_rules),
    )


def _many(model: type[Any], items: Any, name: str, problems: list[str]) -> list[Any]:
    if not isinstance(items, list):
        problems.append(f"{name}: expected a list of rules")
        return []
    out = []
    for i, item in enumerate(items):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            for e in exc.errors():
                problems.append(f"{name}: rule {i}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
    return out
