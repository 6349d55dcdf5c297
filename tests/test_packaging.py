"""Every data file the package reads is shipped by a non-editable install (`pip install .`)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "backtriage"


def test_every_data_file_is_in_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["backtriage"]
    data = [p for p in PACKAGE.rglob("*") if p.suffix in (".yaml", ".json", ".mako") and p.is_file()]
    assert data
    missing = [
        str(p.relative_to(PACKAGE))
        for p in data
        if not any(fnmatch(str(p.relative_to(PACKAGE)), g) for g in globs)
    ]
    assert missing == []
