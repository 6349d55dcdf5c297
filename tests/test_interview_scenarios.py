"""Simulated patients that start from a short lay opening text (tests/scenarios/interview.yaml):
every emergency beyond the back is caught and named, and the stories that once ended in
self-care without the seed's discriminators now end where they should."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.reasoning.engine import default_engine
from backtriage.reasoning.interview import Interviewer
from backtriage.reasoning.simulate import interview_vignette, unmet_expectations
from backtriage.text import understand

SCENARIOS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "scenarios" / "interview.yaml").read_text()
)
INTERVIEWER = Interviewer(default_engine())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    opening = understand(scenario["opening"], kb=INTERVIEWER.kb).answers
    step, asked = interview_vignette(INTERVIEWER, scenario, opening=opening)
    assert unmet_expectations(step, asked, scenario["expected"]) == [], asked


def test_the_stenosis_story_asks_the_seeds_discriminators_and_never_leads_with_a_denied_cause() -> None:
    story = next(s for s in SCENARIOS if s["id"] == "stenosis_story_all_no")
    opening = understand(story["opening"], kb=INTERVIEWER.kb).answers
    step, asked = interview_vignette(INTERVIEWER, story, opening=opening)
    assert step.assessment.urgency.value == "routine"
    leader = step.assessment.conditions[0]
    assert leader.id == "lumbar_spinal_stenosis" and not leader.defining_denied
    # after "legs numb on walking", the question about walking and sitting comes straight after
    # the screens and "where", with the walking option already answered by the text
    assert asked.index("pattern") <= 3
    assert step.assessment.conditions[0].probability > 2 * step.assessment.conditions[1].probability
