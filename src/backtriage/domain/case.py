"""What we know about one person: demographics and answers about findings."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from backtriage.errors import InvalidInputError

__all__ = ["Answer", "Case", "Sex", "MAX_AGE"]

MAX_AGE = 120

#: An answer to "is this finding present?": True (yes), False (no) or None (don't know).
Answer = StrictBool | None


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


_SEX_ALIASES = {
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "woman": Sex.FEMALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "man": Sex.MALE,
}


class Case(BaseModel):
    """The input to an assessment.

    ``answers`` maps finding ids from the knowledge base to yes / no / don't know. A finding
    that is missing from ``answers`` is treated exactly like one answered ``None``: unknown.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    answers: dict[str, Answer] = Field(default_factory=dict)
    age: int | None = Field(default=None, ge=0, le=MAX_AGE, description="Age in whole years.")
    sex: Sex | None = None

    @field_validator("sex", mode="before")
    @classmethod
    def _normalise_sex(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            if key in _SEX_ALIASES:
                return _SEX_ALIASES[key]
        return value

    @field_validator("age", mode="before")
    @classmethod
    def _reject_non_integer_age(cls, value: Any) -> Any:
        # pydantic would happily turn True into 1 or 45.9 into an error message that hides
        # the field; be explicit about what an age is.
        if isinstance(value, bool):
            raise ValueError("age must be a whole number of years, not true/false")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("age must be a whole number of years")
        return value

    @classmethod
    def from_mapping(cls, data: Any) -> Case:
        """Build a case from the JSON shapes we accept.

        Either flat (``{"saddle_anaesthesia": true, "age": 45, "sex": "male"}``) or nested
        (``{"answers": {...}, "age": 45, "sex": "male"}``). Raises `InvalidInputError` with a
        one-line message naming the bad field.
        """
        if not isinstance(data, dict):
            raise InvalidInputError(f"expected a JSON object of answers, got {type(data).__name__}")
        if "answers" in data and isinstance(data["answers"], dict):
            payload = dict(data)
            answers = dict(data["answers"])
            for key in ("age", "sex"):
                if key in answers and key not in payload:
                    payload[key] = answers.pop(key)
            payload["answers"] = answers
        else:
            payload = {k: v for k, v in data.items() if k in ("age", "sex")}
            payload["answers"] = {k: v for k, v in data.items() if k not in ("age", "sex")}
        try:
            return cls.model_validate(payload)
        except ValidationError as exc:
            raise InvalidInputError(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    """Summarise a pydantic error as one line that names the field."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if p != "answers") or "input"
        message = err["msg"]
        if err["type"] == "bool_type" or (len(err["loc"]) == 2 and err["loc"][0] == "answers"):
            message = "answer must be true, false or null"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
