"""Words the terminal needs beyond the result itself: headings, prompts and hints. Kept with the
rest of the presentation layer so the catalogue (and a translation) covers the terminal too."""

from __future__ import annotations

from dataclasses import dataclass

from backtriage.domain.interview import Question
from backtriage.interfaces.presentation.catalogue import gettext as _

__all__ = [
    "Headings",
    "QuestionPrompt",
    "YES_NO_WORDS",
    "describe_prompt",
    "headings",
    "question_prompt",
    "resume_hint",
]


@dataclass(frozen=True)
class Headings:
    why: str
    still_open: str
    answer_them: str
    sooner: str
    causes: str
    because: str
    against: str
    what_to_do: str
    more: str
    red_flags: str
    reasons: str
    cause_table: str
    cause: str
    chance: str
    for_: str
    words_read: str
    read_columns: tuple[str, ...]
    also_read: str
    sources: str


def headings() -> Headings:
    return Headings(
        why=_("Why"),
        still_open=_("Warning signs not asked about yet (a 'yes' would change the advice)"),
        answer_them=_("To answer them, run: backtriage interview"),
        sooner=_("Get help sooner if it changes"),
        causes=_("What might be causing it"),
        because=_("because you said"),
        against=_("against it"),
        what_to_do=_("What to do"),
        more=_("More detail: add --explain."),
        red_flags=_("Red-flag rules that fired"),
        reasons=_("Why this urgency"),
        cause_table=_("Causes considered"),
        cause=_("Cause"),
        chance=_("How likely"),
        for_=_("For (likelihood ratio)"),
        words_read=_("How the words were read"),
        read_columns=(_("words"), _("finding"), _("counted as"), _("why")),
        also_read=_("Also read"),
        sources=_("Sources"),
    )


#: Words accepted for yes / no / not sure at the terminal, in every language the prompts are in
#: (a reply is read the same whatever the language: "si" is never an English answer).
YES_NO_WORDS: dict[str, bool | None] = {
    **dict.fromkeys(("y", "yes", "yeah", "yep", "true"), True),
    **dict.fromkeys(("n", "no", "nope", "false"), False),
    **dict.fromkeys(("?", "not sure", "unsure", "dont know", "don't know", "idk"), None),
    **dict.fromkeys(("s", "si", "sí"), True),
    **dict.fromkeys(("no lo sé", "no lo se", "no sé", "no se", "ns"), None),
}


def describe_prompt() -> str:
    """The interview's first prompt, for the person's own words."""
    return _("Describe what you feel, in your own words (Enter to skip)")


def resume_hint(interview_id: str) -> str:
    """How to come back to an interview."""
    return _("Interview %(id)s (resume with: backtriage interview --resume %(id)s)") % {"id": interview_id}


@dataclass(frozen=True)
class QuestionPrompt:
    ask: str
    retry: str
    why: str


def question_prompt(question: Question, why: str) -> QuestionPrompt:
    """What to type, said once and meant: Enter alone never answers a question."""
    why_line = _("Why we ask: %(why)s") % {"why": why}
    if question.kind == "yes_no":
        return QuestionPrompt(
            _("Type yes, no, or ? if you are not sure"), _("Please type yes, no or ?."), why_line
        )
    if question.kind == "single_choice":
        ask = _("Type the number of your answer, or ? if you are not sure")
    elif question.none_of_these:
        ask = _(
            "Type the numbers that apply (for example 1,3), 0 if none of them apply, "
            "or ? if you are not sure (we then ask about each one)"
        )
    elif question.unchosen_means_no:
        ask = _(
            "Type the numbers that apply (for example 1,3); any you leave out count as no; 0 if none apply"
        )
    else:
        ask = _("Type the numbers that apply (for example 1,3), 0 if none apply, or ? if you are not sure")
    return QuestionPrompt(ask, _("Please type the numbers shown, 0 or ?."), why_line)
