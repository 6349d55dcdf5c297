"""Words in another sense never become symptoms (a valve's collapse, a haematocrit of 38.7, METs on a
treadmill, a broad-based disc bulge), and clinicians' wording for injuries, conscious level and
walking is read (cases in tests/text/word_sense_cases.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text import understand

CASES_FILE = Path(__file__).with_name("word_sense_cases.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
KEYS = {"id", "text", "present", "not_present", "absent", "xfail"}


def _param(case: dict[str, Any]) -> Any:
    """A case with `xfail` is a known gap outside the pattern lexicon (its reason says where);
    it is expected to fail, and the test says so when it starts to pass."""
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_word_sense(case: dict[str, Any]) -> None:
    answers = understand(case["text"]).answers
    for finding in case.get("present", []):
        assert answers.get(finding) is True, f"{finding} should be present in {case['text']!r}: {answers}"
    for finding in case.get("not_present", []):
        assert answers.get(finding) is not True, f"{finding} should not be present in {case['text']!r}"
    for finding in case.get("absent", []):
        assert answers.get(finding) is False, f"{finding} should be denied by {case['text']!r}: {answers}"


def test_cases_are_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    findings = load_knowledge_base().findings
    for case in CASES:
        assert set(case) <= KEYS and {"id", "text"} <= set(case), case["id"]
        expected = [*case.get("present", []), *case.get("not_present", []), *case.get("absent", [])]
        assert expected, f"{case['id']} expects nothing"
        assert all(f in findings for f in expected), case["id"]
        assert not set(case.get("present", [])) & set(case.get("not_present", []) + case.get("absent", []))


def test_both_kinds_are_there() -> None:
    assert sum(bool(c.get("present")) for c in CASES) >= 10
    assert sum(not c.get("present") for c in CASES) >= 10
    assert sum("xfail" in c for c in CASES) <= 5, "known gaps are few, and each is fixed where it lies"
