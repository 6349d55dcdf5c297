"""Questions the interview asks, and one step of an interview."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backtriage.domain.assessment import Assessment

__all__ = ["InterviewStep", "Question", "QuestionOption", "QuestionReason", "StopReason", "WhyAsked"]


class WhyAsked(StrEnum):
    """Why a question is asked now (the presentation layer words it)."""

    RED_FLAG_CHECKLIST = "red_flag_checklist"  # signs of an emergency are asked about first
    SAFETY_SCREEN = "safety_screen"  # the red-flag screen must be answered before home care
    HARMLESS_PATTERN = "harmless_pattern"  # home care needs a pattern known to be harmless
    DECIDES_TIMING = "decides_timing"  # the 14-day rule for cauda equina features
    WOULD_RAISE = "would_raise"  # a "yes" would make a red-flag rule fire
    COVERS_SEVERAL = "covers_several"  # one answer covers several questions
    TELLS_APART = "tells_apart"  # it helps tell the leading causes apart


class QuestionReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: WhyAsked
    screen: str | None = Field(default=None, description="safety_screen: which red-flag screen.")
    rule: str | None = Field(default=None, description="would_raise: the rule a 'yes' would fire.")
    conditions: list[str] = Field(
        default_factory=list, description="tells_apart: the causes the answer helps tell apart."
    )


class StopReason(StrEnum):
    """Why an interview ended."""

    EMERGENCY = "emergency"  # a red flag makes it an emergency: the only message is to get help
    QUESTION_LIMIT = "question_limit"
    SETTLED = "settled"  # no further question would change the picture much


class QuestionOption(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    finding: str | None = Field(description="The finding this option answers, if any.")
    value: bool = Field(default=True, description="The answer choosing this option gives.")


class Question(BaseModel):
    """One question, in lay words, with why it is asked.

    A ``yes_no`` question names its ``finding``; a choice question lists ``options``, each naming
    its finding. Answers always go back as ``{"answers": {"<finding id>": true | false | null}}``.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["yes_no", "single_choice", "multi_choice"]
    text: str
    help: str | None = None
    finding: str | None = None
    options: list[QuestionOption] = Field(default_factory=list)
    none_of_these: bool = Field(
        default=False,
        description="Offer 'None of these': choosing it answers every option's finding 'no'.",
    )
    unchosen_means_no: bool = Field(
        default=False, description="Options left unchosen are answered 'no' (never a red flag)."
    )
    red_flag: bool = False
    why: QuestionReason = Field(description="Why this question is asked now.")
    bears_on: list[str] = Field(
        default_factory=list, description="Condition or rule ids the answer bears on."
    )

    def complete(self, answers: Mapping[str, bool | None]) -> dict[str, bool | None]:
        """The answers with what the question implies added: unchosen options as 'no' when the
        question says so. The server applies this, so every client gets the same reading."""
        completed = dict(answers)
        if self.unchosen_means_no:
            for o in self.options:
                if o.finding and o.finding not in completed:
                    completed[o.finding] = False
        return completed


class InterviewStep(BaseModel):
    """Either the next question, or the final assessment once the interview is done."""

    model_config = ConfigDict(frozen=True)

    done: bool
    question: Question | None = None
    assessment: Assessment
    questions_asked: int
    stop_reason: StopReason | None = None
