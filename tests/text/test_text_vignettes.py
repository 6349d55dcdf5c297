"""The free-text vignettes (tests/text_vignettes/*.yaml): lay narratives and clinical notes.

Safety is checked per vignette (never under-triage; hedged, hypothetical, past or other
people's mentions never count as present). Accuracy is checked against floors for the whole
set, so one hard phrasing does not hide a regression elsewhere; the benchmark script
benchmarks/text_accuracy.py prints the full table.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine
from backtriage.text import assess_text

DIR = Path(__file__).resolve().parent.parent / "text_vignettes"
VIGNETTES: list[dict[str, Any]] = [
    v for path in sorted(DIR.glob("*.yaml")) for v in yaml.safe_load(path.read_text("utf-8"))
]
IDS = [v["id"] for v in VIGNETTES]


@pytest.fixture(scope="module")
def results() -> dict[str, Assessment]:
    return {v["id"]: assess_text(v["text"]) for v in VIGNETTES}


def test_the_set_is_large_and_balanced() -> None:
    assert len(VIGNETTES) >= 100 and len(set(IDS)) == len(IDS)
    styles = defaultdict(int)
    for v in VIGNETTES:
        styles[v["style"]] += 1
    assert styles["lay"] >= 50 and styles["clinical"] >= 50


@pytest.mark.parametrize("vignette", VIGNETTES, ids=IDS)
def test_never_under_triaged(vignette: dict[str, Any], results: dict[str, Assessment]) -> None:
    got = results[vignette["id"]].urgency
    assert got >= UrgencyLevel(vignette["expected"]["urgency"]), vignette["text"]


@pytest.mark.parametrize(
    "vignette",
    [v for v in VIGNETTES if v["expected"].get("not_present")],
    ids=[v["id"] for v in VIGNETTES if v["expected"].get("not_present")],
)
def test_hedged_past_and_other_peoples_mentions_are_not_present(
    vignette: dict[str, Any], results: dict[str, Assessment]
) -> None:
    present = {f.id for f in results[vignette["id"]].findings if f.present is True}
    assert not present & set(vignette["expected"]["not_present"]), vignette["text"]


def test_accuracy_floors(results: dict[str, Assessment]) -> None:
    n = len(VIGNETTES)
    urgency = sum(results[v["id"]].urgency.value == v["expected"]["urgency"] for v in VIGNETTES)
    top3 = sum(v["expected"]["cause"] in [c.id for c in results[v["id"]].conditions[:3]] for v in VIGNETTES)
    present_hits = present_total = absent_hits = absent_total = 0
    for v in VIGNETTES:
        answers = {f.id: f.present for f in results[v["id"]].findings}
        for f in v["expected"].get("present", []):
            present_total += 1
            present_hits += answers.get(f) is True
        for f in v["expected"].get("absent", []):
            absent_total += 1
            absent_hits += answers.get(f) is False
    assert urgency / n >= 0.95
    assert top3 / n >= 0.85
    assert present_hits / present_total >= 0.75
    assert absent_hits / absent_total >= 0.85


def test_phrasings_of_one_case_agree(results: dict[str, Assessment]) -> None:
    groups: dict[str, set[str]] = defaultdict(set)
    for v in VIGNETTES:
        if v.get("group"):
            groups[v["group"]].add(results[v["id"]].urgency.value)
    assert len(groups) >= 8
    assert {g: u for g, u in groups.items() if len(u) > 1} == {}


WHEN_ASKED = [v for v in VIGNETTES if v["expected"].get("self_care_when_asked")]


@pytest.mark.parametrize("vignette", WHEN_ASKED, ids=[v["id"] for v in WHEN_ASKED])
def test_benign_text_leaves_a_harmless_pattern_open(
    vignette: dict[str, Any], results: dict[str, Assessment]
) -> None:
    """The text alone is routine, but nothing read from it rules out a harmless pattern: giving the
    benign answers to what that pattern still needs (as the interview would ask) ends in self-care."""
    engine = default_engine()
    first = results[vignette["id"]]
    assert first.urgency is UrgencyLevel.ROUTINE
    states = {f.id: f.present for f in first.findings if f.present is not None}
    missing = engine.triage.benign_missing(states)
    assert missing, "the text should leave a harmless pattern open"
    pattern = next(
        bp for bp in engine.kb.benign_patterns if set(missing) <= {*bp.all_of, *bp.denied, *bp.asked}
    )
    answers = {f: f in pattern.all_of for f in missing}
    assert assess_text(vignette["text"], Case(answers=answers)).urgency is UrgencyLevel.SELF_CARE
