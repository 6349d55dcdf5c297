"""Every clinical vignette in tests/vignettes/*.yaml, run through the engine.

Each vignette states the urgency a clinician would choose and the cause that must appear among
the engine's three most likely. The files are data: add a case there, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import Engine

VIGNETTE_DIR = Path(__file__).parent / "vignettes"
REQUIRED = {"id", "source", "description", "answers", "expected"}


def load_vignettes() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(VIGNETTE_DIR.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            missing = REQUIRED - set(item)
            assert not missing, f"{path.name}: vignette {item.get('id')} lacks {missing}"
            item["file"] = path.name
            cases.append(item)
    return cases


VIGNETTES = load_vignettes()


def test_there_are_enough_vignettes_with_unique_ids() -> None:
    ids = [v["id"] for v in VIGNETTES]
    assert len(ids) >= 60
    assert len(ids) == len(set(ids))
    assert {v["expected"]["urgency"] for v in VIGNETTES} == {u.value for u in UrgencyLevel}


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_vignette(vignette: dict[str, Any], engine: Engine) -> None:
    case = Case(answers=vignette["answers"], age=vignette.get("age"), sex=vignette.get("sex"))
    result = engine.assess(case)
    expected = vignette["expected"]
    top3 = [c.id for c in result.conditions[:3]]
    assert result.urgency.value == expected["urgency"], (
        f"{vignette['description']}\nreasons: {[r.summary for r in result.urgency_reasons]}\ntop3: {top3}"
    )
    assert expected["cause"] in top3, f"{vignette['description']}\ntop3: {top3}"
