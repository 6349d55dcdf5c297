"""Short messages whose combination is dangerous are at least urgent; short harmless ones stay
calm (tests/text_vignettes/short/messages.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text

MESSAGES = Path(__file__).resolve().parents[1] / "text_vignettes" / "short" / "messages.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_short_message_urgency(case: dict[str, Any]) -> None:
    got = assess_text(case["text"]).urgency
    assert got >= UrgencyLevel(case["at_least"]), f"{case['id']}: {got.value}"
    if "at_most" in case:
        assert got <= UrgencyLevel(case["at_most"]), f"{case['id']}: {got.value}"


def test_both_kinds_are_there() -> None:
    assert sum("at_most" in c for c in CASES) >= 5 and sum("at_most" not in c for c in CASES) >= 10
