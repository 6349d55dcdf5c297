"""The words of a language that the reader's code uses directly, as typed data.

Each model is one file of a language folder (`text/data/<language>/`), loaded by resources.py:

    sentences.yaml          abbreviations, a form's answers, capital words (pipeline.py, understand.py)
    age_sex_and_time.yaml   ages, sex, durations, "since ...", sudden and gradual onset (extract.py)

and `words_pattern` turns a list of words into the alternation of a regular expression, so a
pattern that was written from words is built from the data's word lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = [
    "DurationWords",
    "OnsetWords",
    "PastEventWords",
    "SentenceWords",
    "SinceWords",
    "TimeAndPersonWords",
    "UnitWords",
    "once_per",
    "words_pattern",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fraction(value: object) -> object:
    """ "1/1440" -> the float nearest 1/1440 (the same float Python computes for 1 / 1440)."""
    if isinstance(value, str) and "/" in value:
        return float(Fraction(value))
    return value


#: A number of days, written as a number or a fraction ("1/24").
Days = Annotated[int | float, BeforeValidator(_fraction), Field(gt=0)]
Words = Annotated[list[str], Field(min_length=1)]


def _lower_case(words: list[str]) -> list[str]:
    bad = [w for w in words if w != w.lower() or w.strip() != w or not w]
    if bad:
        raise ValueError(f"write words in lower case, trimmed: {', '.join(map(repr, bad))}")
    return words


class SentenceWords(_Strict):
    """sentences.yaml: the words the sentence splitter and the line joiner look at."""

    abbreviations: list[str] = Field(
        default_factory=list, description="A full stop after these does not end a sentence ('Dr. Smith')."
    )
    answers: list[str] = Field(
        default_factory=list, description="Words that answer a form's question ('Saddle anaesthesia? No.')."
    )
    capital_words: list[str] = Field(
        default_factory=list, description="One-letter words written in capitals that open a sentence ('I')."
    )

    @field_validator("abbreviations", "answers")
    @classmethod
    def _lower(cls, words: list[str]) -> list[str]:
        return _lower_case(words)


class UnitWords(_Strict):
    """One unit of time: its length and the words for it after a number."""

    days: Days
    words: Words


class DurationWords(_Strict):
    """'for 3 weeks', 'a couple of days ago'."""

    before: list[str] = Field(default_factory=list, description="Words that may open a duration ('for').")
    numbers: dict[str, int | float] = Field(default_factory=dict, description="Number words, tried in order.")
    units: dict[str, UnitWords] = Field(min_length=1)
    ago: list[str] = Field(default_factory=list, description="Words after a duration that date an event.")
    ago_before: list[str] = Field(
        default_factory=list,
        description="Opening words that date an event like `ago` does, said before the number ('hace').",
    )

    @property
    def days_of(self) -> dict[str, int | float]:
        """Each unit word (lower case) -> its length in days."""
        return {w: unit.days for unit in self.units.values() for w in unit.words}


class PastEventWords(_Strict):
    """Words before 'N years ago' that make it the date of a past event ('cancer 5 yrs ago')."""

    words: Words
    unless_followed_by: list[str] = Field(
        default_factory=list, description="Words later in the sentence that date today's symptoms instead."
    )


class SinceWords(_Strict):
    """'since last night': how long ago each phrase after 'since' is, in days."""

    words: Words
    when: dict[str, Days] = Field(min_length=1)


class OnsetWords(_Strict):
    sudden: list[str] = Field(default_factory=list)
    gradual: list[str] = Field(default_factory=list)


class TimeAndPersonWords(_Strict):
    """age_sex_and_time.yaml: age and sex (regular expressions, one group each), durations, onset."""

    ages: list[str] = Field(default_factory=list, description="Group 1 is the age in years.")
    sexes: list[str] = Field(default_factory=list, description="Group 1 is the word that tells the sex.")
    female: list[str] = Field(default_factory=list, description="Such a word in group 1 says female.")
    durations: DurationWords
    past_events: PastEventWords | None = None
    since: SinceWords | None = None
    onset: OnsetWords = Field(default_factory=OnsetWords)

    @field_validator("ages", "sexes")
    @classmethod
    def _one_group(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                groups = re.compile(pattern).groups
            except re.error as exc:
                raise ValueError(f"pattern does not compile ({exc}): {pattern!r}") from exc
            if groups < 1:
                raise ValueError(f"pattern has no group to read: {pattern!r}")
        return patterns


def words_pattern(words: Iterable[str], gap: Literal["space", "spaces"] = "spaces") -> str:
    """The words as a regular-expression alternation, in the order given. Between the words of a
    phrase stands one space ("space") or any run of white space ("spaces"); a final `*` stands
    for any ending ("chemo*": chemotherapy). No words: a pattern that never matches."""
    words = list(words)
    if not words:
        return "(?!)"
    between = r"\ " if gap == "space" else r"\s+"

    def one(word: str) -> str:
        stem, any_ending = (word[:-1], r"\w*") if word.endswith("*") else (word, "")
        return between.join(re.escape(part) for part in stem.split(" ")) + any_ending

    return "|".join(one(w) for w in words)


S = TypeVar("S")
T = TypeVar("T")


def once_per(build: Callable[[S], T]) -> Callable[[S], T]:
    """`build(spec)`, computed once per spec object and kept beside it (so its id cannot be
    reused): what a language's words compile to is compiled once per loaded folder."""
    cache: dict[int, tuple[S, T]] = {}

    def compiled(spec: S) -> T:
        hit = cache.get(id(spec))
        if hit is None or hit[0] is not spec:
            hit = cache[id(spec)] = (spec, build(spec))
        return hit[1]

    return compiled
