"""A submitted question form, read back as answers in the shape the service takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backtriage.domain.interview import Question
from backtriage.errors import InvalidInputError

__all__ = ["answers_from_form"]

Answers = dict[str, bool | None]


def answers_from_form(question: Question, form: Mapping[str, Any]) -> Answers:
    """yes / no / "I'm not sure" for a yes-no question; the chosen options of a choice question,
    "None of these" (every option no) or "I'm not sure" (every option unknown)."""
    choice = str(form.get("choice", ""))
    if question.kind == "yes_no":
        assert question.finding is not None
        values = {"yes": True, "no": False, "unsure": None}
        if choice not in values:
            raise InvalidInputError("choose yes, no or I'm not sure")
        return {question.finding: values[choice]}
    options = {o.id: o for o in question.options}
    if choice == "unsure":
        return {o.finding: None for o in question.options if o.finding}
    if choice == "none":
        return {o.finding: False for o in question.options if o.finding}
    picked = _picked(form)
    if question.kind == "single_choice":
        picked = [choice] if choice in options else picked[:1]
    answers: Answers = {}
    for option_id in picked:
        option = options.get(option_id)
        if option is not None and option.finding:
            answers[option.finding] = option.value
    if not answers and question.kind == "multi_choice" and not question.unchosen_means_no:
        raise InvalidInputError('choose at least one, or "None of these"')
    return answers


def _picked(form: Mapping[str, Any]) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist("option") if getlist else [form.get("option")]
    return [str(v) for v in values if v]
