"""Results of slow, pure computations on the shipped data, kept on disk between runs.

Reading the lexicon's patterns for what each one needs takes most of a second; every command,
server, batch worker and Spark executor would pay it. The result is stored as JSON under a name
made of a hash of everything it was computed from (the package version and, for a language's
text resources, the language included), so a changed data file simply gets a new entry. A cache
that is missing, unreadable, corrupt or unwritable costs only the time: the value is computed
afresh.

    BACKTRIAGE_CACHE_DIR   where entries go (default: $XDG_CACHE_HOME/backtriage, or
                           ~/.cache/backtriage); "off" keeps nothing
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "cached_json"]

CACHE_ENV = "BACKTRIAGE_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backtriage"


def cached_json(name: str, source: str, build: Callable[[], Any], *, language: str | None = None) -> Any:
    """`build()`'s value (plain JSON data), kept under `name` and a hash of `source` (all it
    depends on). A value computed for one language's text resources names the language, in the
    entry's name and in its hash, so no language ever reads another's entry."""
    from backtriage import __version__

    folder = cache_dir()
    digest = hashlib.sha256(f"{__version__}\n{language}\n{source}".encode()).hexdigest()[:32]
    entry = f"{name}-{language}-{digest}" if language else f"{name}-{digest}"
    path = folder / f"{entry}.json" if folder else None
    if path is not None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    value = build()
    if path is not None:
        _write(path, value)
    return value


def _write(path: Path, value: Any) -> None:
    """Write whole or not at all (other processes may be reading the same entry)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as out:
            json.dump(value, out)
        os.replace(out.name, path)
    except OSError:
        pass
