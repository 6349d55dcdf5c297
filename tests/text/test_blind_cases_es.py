"""Spanish blind cases (tests/text_vignettes/blind_es/): descriptions nobody on the team wrote.

Each batch was measured once before anything was tuned on it (the figures are in that folder's
README), and only then used for error analysis. They are kept here so that reading Spanish never
gets worse: known under-triage is listed with its reason, and a case that starts passing must be
taken off the list (the test says so), so the list cannot go stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text

BLIND_ES = Path(__file__).resolve().parents[1] / "text_vignettes" / "blind_es"

#: Under-triaged today, and why: named limits of the reader or of the knowledge base.
KNOWN_UNDER_TRIAGE = {
    "es1-lt-021": "Guillain-Barre after flu with a fall on standing and trouble swallowing: the knowledge "
    "base needs 'unable to walk' or four limbs for an emergency; a fall and swallowing are neither",
    "es1-lt-056": "a numb foot, harder each day to put weight on, uncontrolled pain: no rule makes "
    "worsening sciatica without named weakness urgent (the English reader is the same)",
    "es1-lt-061": "a week after disc surgery, leg pain back and a red wound: no rule for early "
    "post-operative trouble without fever",
    "es1-lt-064": "new thigh weakness after lifting, bladder normal: new one-leg weakness alone is routine "
    "in the knowledge base",
    "es4-lt-029": "a red, hot, oozing wound twelve days after disc surgery, no fever: as es1-lt-061",
    "es3-lt-066": "more pain and redness where a spinal injection went in, no fever: as es1-lt-061, no rule "
    "for early trouble after a spinal procedure without fever",
}


def _cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(BLIND_ES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


CASES = _cases()


def test_the_spanish_batches_are_present_and_well_formed() -> None:
    assert len(CASES) >= 500
    for case in CASES:
        assert case["urgency"] in case["acceptable"], case["id"]
        assert case["style"] in ("lay", "texting", "clinical"), case["id"]
        assert case["variety"] in ("es-ES", "es-419"), case["id"]
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_spanish_blind_case_is_under_triaged(case: dict[str, Any]) -> None:
    got = assess_text(case["text"], language="es").urgency
    under = all(got < UrgencyLevel(level) for level in case["acceptable"])
    if case["id"] in KNOWN_UNDER_TRIAGE:
        assert under, f"{case['id']} now passes: take it off KNOWN_UNDER_TRIAGE"
        pytest.xfail(KNOWN_UNDER_TRIAGE[case["id"]])
    assert not under, f"{case['id']}: {got.value}, acceptable {case['acceptable']}"


def test_spanish_blind_accuracy_floors() -> None:
    """Floors a little under today's figures (acceptable 0.87, emergencies 155/160, over-triage to
    emergency 23/289), so reading Spanish cannot quietly get worse or win emergencies by calling
    everything one."""
    acceptable = emergencies = found = calm = over = 0
    for case in CASES:
        got = assess_text(case["text"], language="es").urgency
        acceptable += got in [UrgencyLevel(u) for u in case["acceptable"]]
        if case["urgency"] == "emergency":
            emergencies += 1
            found += got is UrgencyLevel.EMERGENCY
        if "emergency" not in case["acceptable"]:
            calm += 1
            over += got is UrgencyLevel.EMERGENCY
    assert acceptable / len(CASES) >= 0.85
    assert found / emergencies >= 0.94
    assert over / calm <= 0.10
