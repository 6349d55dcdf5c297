"""The interview: red flags first, emergencies end it, and simulated patients get the right
urgency from the structured vignettes."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.domain.case import Case
from backtriage.domain.interview import InterviewStep
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine
from backtriage.reasoning.interview import Interviewer
from backtriage.reasoning.simulate import interview_vignette

ENGINE = default_engine()
KB = ENGINE.kb
INTERVIEWER = Interviewer(ENGINE)
VIGNETTES = [
    v
    for p in sorted((Path(__file__).parent.parent / "vignettes").glob("*.yaml"))
    for v in yaml.safe_load(p.read_text())
]


def interview(vignette: dict[str, Any]) -> tuple[InterviewStep, list[str]]:
    return interview_vignette(INTERVIEWER, vignette)


#: Average silent reading speed of adults, in words a minute (Brysbaert 2019: about 238).
READING_WORDS_PER_MINUTE = 240


def test_the_first_question_is_the_emergency_screen_readable_in_20_seconds() -> None:
    step = INTERVIEWER.step(Case())
    q = step.question
    assert q is not None and q.id == "emergency_screen"
    assert q.red_flag and q.none_of_these
    findings = {o.finding for o in q.options}
    # the back's own emergencies ...
    assert {
        "saddle_anaesthesia",
        "bladder_dysfunction",
        "bowel_dysfunction",
        "bilateral_leg_weakness",
    } <= findings
    # ... and those beyond it, whatever the presentation
    assert {
        "stroke_signs",
        "chest_pain",
        "breathing_difficulty",
        "cold_pale_limb",
        "head_or_neck_injury",
    } <= findings
    words = len(" ".join([q.text, *(o.text for o in q.options)]).split())
    assert words / READING_WORDS_PER_MINUTE * 60 <= 20, f"{words} words take over 20 seconds to read"
    for o in q.options:  # each is a red flag, with a rule of its own (the loader checks that)
        assert o.finding is None or KB.findings[o.finding].red_flag, o.id


def test_the_screen_comes_first_even_after_an_opening_text() -> None:
    step = INTERVIEWER.step(Case(answers={"worse_with_walking": True, "lower_back_symptoms": True}, age=72))
    assert step.question is not None and step.question.id == "emergency_screen"


def test_an_emergency_ends_the_interview_at_once() -> None:
    step = INTERVIEWER.step(Case(answers={"saddle_anaesthesia": True, "bladder_dysfunction": True}))
    assert step.done and step.assessment.urgency is UrgencyLevel.EMERGENCY


def test_the_fourteen_day_question_is_asked_before_a_single_ces_feature_ends_it() -> None:
    step = INTERVIEWER.step(Case(answers={"saddle_anaesthesia": True}), ["red_flags"])
    assert not step.done and step.question is not None
    assert step.question.finding == "longstanding_stable"
    stable = INTERVIEWER.step(
        Case(answers={"saddle_anaesthesia": True, "longstanding_stable": True}),
        ["red_flags", "longstanding_stable"],
    )
    assert stable.assessment.urgency is UrgencyLevel.URGENT
    new = INTERVIEWER.step(
        Case(answers={"saddle_anaesthesia": True, "longstanding_stable": False}),
        ["red_flags", "longstanding_stable"],
    )
    assert new.done and new.assessment.urgency is UrgencyLevel.EMERGENCY


def test_simulated_patients_from_every_vignette() -> None:
    counts, right = [], 0
    for v in VIGNETTES:
        step, asked = interview(v)
        expected = UrgencyLevel(v["expected"]["urgency"])
        got = step.assessment.urgency
        assert got >= expected, (v["id"], got, asked)  # never under-triaged
        right += got is expected
        counts.append(len(asked))
        if got is not UrgencyLevel.EMERGENCY:
            # every applicable red-flag screen question was asked or already answered
            assert all(p.finding in asked for p in step.assessment.pending_red_flags), v["id"]
    assert right / len(VIGNETTES) >= 0.95
    assert statistics.median(counts) <= 8


answer_values = st.sampled_from([True, False, None])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_answer_sequence_reaches_self_care_with_a_red_flag_unasked(data) -> None:  # type: ignore[no-untyped-def]
    answers: dict[str, Any] = {}
    asked: list[str] = []
    for _ in range(25):
        step = INTERVIEWER.step(Case(answers=answers), asked)
        if step.done:
            break
        q = step.question
        assert q is not None
        asked.append(q.id)
        if q.kind == "yes_no":
            answers[q.finding] = data.draw(answer_values)  # type: ignore[index]
        else:
            for o in q.options:
                if o.finding and data.draw(st.booleans()):
                    answers[o.finding] = o.value
            if q.none_of_these and data.draw(st.booleans()):
                answers.update(
                    {o.finding: False for o in q.options if o.finding and o.finding not in answers}
                )
    final = ENGINE.assess(Case(answers=answers))
    if final.urgency is UrgencyLevel.SELF_CARE:
        for screen in KB.screens:
            if not screen.applies_if_any or any(answers.get(f) for f in screen.applies_if_any):
                assert all(answers.get(q) is False for q in screen.questions)
