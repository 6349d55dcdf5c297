"""A submitted question form, read back as answers in the shape the service takes; and the
answers already given, read back for the page (the options already answered, what each answered
question was answered)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from backtriage.domain.interview import Question
from backtriage.errors import InvalidInputError
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["Given", "OptionShown", "answers_from_form", "given", "options_shown"]

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


@dataclass(frozen=True)
class OptionShown:
    """One option of a choice question as the page shows it. An option whose answer is already
    known (from what the person wrote, or an earlier question) is not asked again, but it is
    shown, ticked or not, so that the list and the body map always offer the same options."""

    id: str
    text: str
    known: bool = False
    holds: bool = False  # known, and the answer is this option


def options_shown(
    kb: KnowledgeBase, question: Question, answers: Mapping[str, bool | None]
) -> list[OptionShown]:
    """Every option of the question, in the knowledge base's order: those asked, and those left
    out of the question because their answer is known."""
    asked = [OptionShown(o.id, o.text) for o in question.options if o.finding]
    source = kb.questions.get(question.id)
    if source is None:
        return asked
    by_id = {o.id: o for o in asked}
    shown: list[OptionShown] = []
    for o in source.options:
        if not o.finding:
            continue
        if o.id in by_id:
            shown.append(by_id.pop(o.id))
        elif answers.get(o.finding) is not None:
            shown.append(OptionShown(o.id, o.text, known=True, holds=answers[o.finding] is o.value))
    return shown + list(by_id.values())


@dataclass(frozen=True)
class Given:
    """How a question was answered: yes, no or not sure (a yes-no question); the options chosen,
    none of them, or not sure (a choice question)."""

    kind: Literal["yes", "no", "unsure", "options", "none"]
    options: list[str] = field(default_factory=list)


def given(kb: KnowledgeBase, question_id: str, answers: Mapping[str, bool | None]) -> Given | None:
    """The answer standing for an answered question; None for a question it cannot find."""
    choice = kb.questions.get(question_id)
    if choice is not None:
        chosen = [
            o.text
            for o in choice.options
            if o.finding and answers.get(o.finding) is not None and answers[o.finding] is o.value
        ]
        if chosen:
            return Given("options", chosen)
        known = [answers.get(o.finding) for o in choice.options if o.finding]
        return Given("none") if any(v is not None for v in known) else Given("unsure")
    finding = kb.findings.get(question_id)
    if finding is None or finding.id not in answers:
        return None
    value = answers[finding.id]
    return Given("unsure" if value is None else "yes" if value else "no")
