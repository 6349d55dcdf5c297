"""Request and response bodies of the HTTP API (separate from the domain models)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator, model_validator

from backtriage.domain.case import MAX_AGE, Sex
from backtriage.interfaces.presentation import languages
from backtriage.knowledge.loader import load_knowledge_base

__all__ = [
    "MAX_ANSWERS",
    "MAX_FIELDS",
    "AnswersIn",
    "AssessIn",
    "ErrorBody",
    "ErrorOut",
    "InterviewStart",
    "ParseIn",
]

#: Finding ids a caller may answer, so the OpenAPI document lists them (derived ones excluded).
FindingId = Literal[tuple(f.id for f in load_knowledge_base().asked_findings)]  # type: ignore[valid-type]
Answers = dict[FindingId, StrictBool | None]  # type: ignore[valid-type]

#: More answers than there are findings must hold an unknown id. Refusing them up front, with
#: one error, stops a flood of keys from building one error (and a copy of the id list) per key.
MAX_ANSWERS = len(load_knowledge_base().asked_findings)
#: No request body has more than five fields; beyond this many the body is refused unread.
MAX_FIELDS = 16


_ANSWERS_EXAMPLE = {
    "saddle_anaesthesia": False,
    "bladder_dysfunction": False,
    "bowel_dysfunction": False,
    "posture_related": True,
}


def _whole_number(value: Any) -> Any:
    """JSON integers only: 45 or 45.0, never true/false or "45"."""
    if isinstance(value, bool | str):
        raise ValueError("must be a whole number")
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _not_too_many_fields(cls, data: Any) -> Any:
        # Before anything else: 120,000 unknown fields would otherwise give 120,000 errors. A few
        # more than there are still get an error naming the first unknown one.
        if isinstance(data, dict) and len(data) > MAX_FIELDS:
            raise ValueError(f"more than {MAX_FIELDS} fields; the fields are: {', '.join(cls.model_fields)}")
        return data

    @field_validator("answers", mode="before", check_fields=False)
    @classmethod
    def _not_too_many_answers(cls, value: Any) -> Any:
        if isinstance(value, dict) and len(value) > MAX_ANSWERS:
            raise ValueError(f"at most {MAX_ANSWERS} answers, one per finding id")
        return value

    @field_validator("age", "top", mode="before", check_fields=False)
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _whole_number(value)

    @field_validator("text", check_fields=False)
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # A NUL cannot be stored by PostgreSQL and is never part of a description.
        if value is not None and "\x00" in value:
            raise ValueError("text contains a NUL character (\\u0000); remove it")
        return value


class AssessIn(_In):
    """Answers and/or free text; an explicit answer wins over what the text says."""

    text: StrictStr | None = Field(
        default=None,
        max_length=100_000,
        examples=["Tingling in my low back after sitting, gone when I walk."],
    )
    answers: Answers = Field(default_factory=dict, examples=[_ANSWERS_EXAMPLE])
    age: int | None = Field(default=None, ge=0, le=MAX_AGE, examples=[34])
    sex: Sex | None = Field(default=None, examples=["female"])
    top: int = Field(default=10, ge=0, le=100, description="How many causes to return (0 = all).")
    explain: StrictBool = Field(
        default=False,
        description="Add `explanation`: the outcome, the reasons and the causes in words, as the "
        "page shows them (the rest of the result is structured: ids, codes and numbers).",
    )
    lang: StrictStr | None = Field(
        default=None,
        max_length=16,
        description="The language of the words (`disclaimer`, `explanation`, and the names, labels, "
        "questions and advice beside the ids): en or es; default the service's (BACKTRIAGE_LANG). A "
        "region may follow (es-MX): where the service maps locales to emergency numbers, it chooses "
        "the number.",
        examples=["es"],
        json_schema_extra={"pattern": languages.locale_pattern()},
    )

    @field_validator("lang")
    @classmethod
    def _a_language_spoken(cls, value: str | None) -> str | None:
        if value is not None:
            languages.parse_locale(value)  # an InvalidInputError is a ValueError: a 422 naming them
        return value


class ParseIn(_In):
    text: StrictStr = Field(
        max_length=100_000,
        examples=["Pt denies saddle anaesthesia, urinary retention. 45M, 2/52 hx"],
    )


class InterviewStart(_In):
    text: StrictStr | None = Field(
        default=None,
        max_length=100_000,
        examples=["My back tingles after sitting at my desk."],
    )
    answers: Answers = Field(default_factory=dict)
    age: int | None = Field(default=None, ge=0, le=MAX_AGE)
    sex: Sex | None = None


class AnswersIn(_In):
    """Answers to the current question, in the same shape everywhere."""

    answers: Answers = Field(examples=[{"saddle_anaesthesia": False}])


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_input"])
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
