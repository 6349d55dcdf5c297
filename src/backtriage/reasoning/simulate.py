"""A simulated patient for evaluating the interview: answers from a vignette's findings.

Used by the tests and the interview benchmark. Anything the vignette does not mention is answered
"no", except red-flag screen questions when the vignette is marked as having an incomplete
screen, which stay "don't know".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backtriage.domain.case import Case
from backtriage.domain.interview import InterviewStep, Question
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.interview import Interviewer

__all__ = ["interview_vignette", "meets_expectations", "simulated_answer", "unmet_expectations"]


def simulated_answer(
    q: Question, truth: Mapping[str, Any], screened: set[str], incomplete: bool
) -> dict[str, Any]:
    def value(fid: str) -> bool | None:
        if fid in truth:
            return truth[fid]  # type: ignore[no-any-return]
        return None if incomplete and fid in screened else False

    if q.kind == "yes_no":
        assert q.finding is not None
        return {q.finding: value(q.finding)}
    chosen = {
        o.finding: o.value
        for o in q.options
        if o.finding and o.finding in truth and value(o.finding) is o.value
    }
    if q.none_of_these and not chosen:
        findings = [o.finding for o in q.options if o.finding]
        if all(value(f) is False for f in findings):
            return dict.fromkeys(findings, False)
    return q.complete(chosen)


def interview_vignette(
    interviewer: Interviewer,
    vignette: Mapping[str, Any],
    limit: int = 60,
    opening: Mapping[str, bool] | None = None,
) -> tuple[InterviewStep, list[str]]:
    """Run a whole interview for one vignette; returns the last step and the questions asked.

    ``opening`` holds what was read from an opening text, known before the first question (the
    caller reads it, so reasoning stays independent of the text reader). The truth is the
    vignette's ``answers`` (or a scenario's ``truth``)."""
    truth = vignette.get("answers", vignette.get("truth", {}))
    incomplete = "screen incomplete" in str(vignette.get("description", "")).lower()
    screened = {q for s in interviewer.kb.screens for q in s.questions}
    answers: dict[str, Any] = dict(opening or {})
    asked: list[str] = []
    for _ in range(limit):
        case = Case(answers=answers, age=vignette.get("age"), sex=vignette.get("sex"))
        step = interviewer.step(case, asked)
        if step.done:
            return step, asked
        assert step.question is not None
        asked.append(step.question.id)
        answers.update(simulated_answer(step.question, truth, screened, incomplete))
    raise RuntimeError("interview did not finish")


def unmet_expectations(step: InterviewStep, asked: list[str], expected: Mapping[str, Any]) -> list[str]:
    """What a finished scenario interview got wrong: urgency, leading (or, for an emergency,
    suspected) cause, scope, and questions that had to be asked. Empty when all were met."""
    a = step.assessment
    leads = _listed(expected["leads"])
    named = a.conditions[0].id in leads or (
        a.urgency is UrgencyLevel.EMERGENCY and bool(set(a.suspected) & set(leads))
    )
    problems = []
    if a.urgency.value != expected["urgency"]:
        problems.append(f"urgency {a.urgency.value}, expected {expected['urgency']}")
    if not named:
        problems.append(f"led by {a.conditions[0].id} (suspected {a.suspected}), expected {leads}")
    if a.scope.value not in _listed(expected["scope"]):
        problems.append(f"scope {a.scope.value}, expected {expected['scope']}")
    missing = set(expected.get("must_ask", [])) - set(asked)
    if missing:
        problems.append(f"never asked {sorted(missing)}")
    return problems


def meets_expectations(step: InterviewStep, asked: list[str], expected: Mapping[str, Any]) -> bool:
    return not unmet_expectations(step, asked, expected)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
