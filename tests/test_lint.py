"""The code base stays lint-clean, formatted and type-checked (ruff, mypy; see pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    """The tool on PATH, else the one installed next to this interpreter (a venv's bin/)."""
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_ruff_passes() -> None:
    proc = _run([_tool("ruff"), "check", "src", "tests", "benchmarks", "scripts", "examples"], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean() -> None:
    proc = _run(
        [_tool("ruff"), "format", "--check", "src", "tests", "benchmarks", "scripts", "examples"], timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_passes() -> None:
    proc = _run([_tool("mypy"), "--strict", "src"], timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
