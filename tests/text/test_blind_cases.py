"""Blind cases (tests/text_vignettes/blind/): descriptions nobody on the team wrote.

They were measured first, before any tuning, and then kept here so that reading never gets worse
on them. Known under-triage is listed with its reason; a case that starts passing must be taken
off the list (the test says so), so the list cannot go stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text

BLIND = Path(__file__).resolve().parents[1] / "text_vignettes" / "blind"

#: Under-triaged today, and why: named limits of the reader or of the knowledge base.
KNOWN_UNDER_TRIAGE = {
    "b3-lt-050": "bilateral sciatica alone with a clear screen; the knowledge base has no rule for it",
    "b4-cl-021": "fever with recent infection and new leg tingling is read, but the knowledge base makes "
    "spinal infection urgent, not an emergency, without a neurological deficit",
    "b4-lt-021": "a fever given as a number after 'screaming if anyone touches her spine' falls inside "
    "the hypothetical 'if'",
    "b5-cl-041": "legs 'gone dead', 'can't lift them off the bed': weakness told through a pronoun",
    "b5-lt-012": "a fall on to the bottom in an old man on warfarin: no rule for anticoagulation",
    "b5-lt-049": "a two-month one-sided change when wiping, 'a bit less sensitive', is not read",
    "b5-lt-050": "'couldn't feel the chair under me properly' is not read as saddle numbness",
    "b5-lt-080": "Guillain-Barre: 'without pushing with his arms' is read as a negation of the weakness",
    "b5-lt-082": "bilateral sciatica alone with a clear screen; the knowledge base has no rule for it",
    "b7-st-028": "fever, steroids and legs: 'legs are heavy n numb' is read as symptoms, not weakness",
    "b7-st-040": "'knee keeps buckling' after two weeks of sciatica: a new motor deficit told without 'weak'",
    "b7-st-055": "a wrist drop ('can't lift it up') after sleeping on an arm: no rule for it",
}


def _cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(BLIND.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


CASES = _cases()


def test_the_blind_batches_are_present_and_well_formed() -> None:
    assert len(CASES) >= 1070
    for case in CASES:
        assert case["urgency"] in case["acceptable"], case["id"]
        assert case["style"] in ("lay", "texting", "clinical"), case["id"]
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_blind_case_is_under_triaged(case: dict[str, Any]) -> None:
    got = assess_text(case["text"]).urgency
    under = all(got < UrgencyLevel(level) for level in case["acceptable"])
    if case["id"] in KNOWN_UNDER_TRIAGE:
        assert under, f"{case['id']} now passes: take it off KNOWN_UNDER_TRIAGE"
        pytest.xfail(KNOWN_UNDER_TRIAGE[case["id"]])
    assert not under, f"{case['id']}: {got.value}, acceptable {case['acceptable']}"


def test_blind_accuracy_floors() -> None:
    """Floors a little under today's figures on the tuned batches (measured in the CHANGELOG),
    and a ceiling on over-triage: emergencies found must not come from calling everything one."""
    acceptable = emergencies = found = calm = over = 0
    for case in CASES:
        got = assess_text(case["text"]).urgency
        acceptable += got in [UrgencyLevel(u) for u in case["acceptable"]]
        if case["urgency"] == "emergency":
            emergencies += 1
            found += got is UrgencyLevel.EMERGENCY
        if "emergency" not in case["acceptable"]:
            calm += 1
            over += got is UrgencyLevel.EMERGENCY
    assert acceptable / len(CASES) >= 0.88
    assert found / emergencies >= 0.95
    # 0.09 before durations were tied to their sentence: a long duration anywhere in a text no
    # longer downgrades a cauda equina feature stated elsewhere, so 8 more of the older batches'
    # long-standing stories are read as emergencies (when unsure, never downgrade).
    assert over / calm <= 0.10
