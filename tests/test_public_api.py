"""The public API is deliberate: pin it, and keep the core free of interface imports."""

from __future__ import annotations

import subprocess
import sys

import backtriage


def test_exported_names_are_exactly_the_intended_ones() -> None:
    assert sorted(backtriage.__all__) == [
        "Assessment",
        "BacktriageError",
        "Case",
        "ConditionResult",
        "Engine",
        "EvidenceItem",
        "FiredRule",
        "InvalidInputError",
        "KnowledgeBase",
        "KnowledgeBaseError",
        "Sex",
        "UnknownFindingError",
        "UrgencyLevel",
        "assess",
        "load_knowledge_base",
    ]
    for name in backtriage.__all__:
        assert hasattr(backtriage, name)


def test_reasoning_core_imports_no_interface_code() -> None:
    code = (
        "import sys, backtriage; backtriage.assess({'fever': False}); "
        "bad = [m for m in sys.modules if m.startswith(('backtriage.interfaces', 'typer', 'rich'))]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
