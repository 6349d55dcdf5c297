"""Request and response bodies of the HTTP API (separate from the domain models)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from backtriage.domain.case import MAX_AGE, Sex

__all__ = ["AnswersIn", "AssessIn", "ErrorBody", "ErrorOut", "InterviewStart", "ParseIn"]

_ANSWERS_EXAMPLE = {"saddle_anaesthesia": False, "bladder_dysfunction": False,
                    "bowel_dysfunction": False, "posture_related": True}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssessIn(_In):
    """Answers and/or free text; an explicit answer wins over what the text says."""

    text: str | None = Field(default=None, max_length=100_000,
                             examples=["Tingling in my low back after sitting, gone when I walk."])
    answers: dict[str, StrictBool | None] = Field(default_factory=dict,
                                                   examples=[_ANSWERS_EXAMPLE])
    age: int | None = Field(default=None, ge=0, le=MAX_AGE, examples=[34])
    sex: Sex | None = Field(default=None, examples=["female"])
    top: int = Field(default=10, ge=0, le=100,
                     description="How many causes to return (0 = all).")


class ParseIn(_In):
    text: str = Field(max_length=100_000,
                      examples=["Pt denies saddle anaesthesia, urinary retention. 45M, 2/52 hx"])


class InterviewStart(_In):
    text: str | None = Field(default=None, max_length=100_000,
                             examples=["My back tingles after sitting at my desk."])
    answers: dict[str, StrictBool | None] = Field(default_factory=dict)
    age: int | None = Field(default=None, ge=0, le=MAX_AGE)
    sex: Sex | None = None


class AnswersIn(_In):
    """Answers to the current question, in the same shape everywhere."""

    answers: dict[str, StrictBool | None] = Field(examples=[{"saddle_anaesthesia": False}])


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_input"])
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
