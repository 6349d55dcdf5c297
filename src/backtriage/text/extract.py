"""Age, sex, duration and onset from free text, with regular expressions.

These are facts that do not need ConText: "I'm 71", "45M", "62F", "(F, 45)", "72 yo female",
"for 3 months", "x2/52", "3/7", "since this morning". Each extraction keeps the matched span so
the user can see which words were read. The words and patterns are the language's
(`data/<language>/age_sex_and_time.yaml`); without them, English is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backtriage.domain.case import MAX_AGE
from backtriage.text.resources import load_text_resources
from backtriage.text.words import DurationWords, TimeAndPersonWords, once_per, words_pattern

__all__ = ["Extracted", "TimeCourse", "extract_demographics", "extract_time_course", "sentence_spans"]

#: UK notes write durations as fractions of a week, a year or a month: 3/7 days, 2/52 weeks, 6/12
#: months. Digits and slashes only, the same in any language that uses them, so they stay here.
_SLASH_UNITS = {"7": 1, "52": 7, "12": 30}
# No leading "\s*" outside the optional "x": it would make the search quadratic in a run of spaces.
_SLASH = re.compile(r"(?<![\d/])(?:x\s*)?(?P<num>\d{1,2})\s*/\s*(?P<unit>52|7|12)(?![\d/])", re.I)
_NUMBER = r"(?P<num>\d+(?:\.\d+)?)"


@dataclass(frozen=True)
class _Patterns:
    """One language's words for age, sex and time (age_sex_and_time.yaml), compiled."""

    ages: tuple[re.Pattern[str], ...]
    sexes: tuple[re.Pattern[str], ...]
    female: frozenset[str]
    duration: re.Pattern[str]  # groups: before, num or word, unit, ago
    ago_before: frozenset[str]  # opening words that date an event ("hace"), lower case, single-spaced
    numbers: dict[str, int | float]
    days_of_unit: dict[str, int | float]
    past_event: re.Pattern[str]
    since: re.Pattern[str]  # group: when
    days_since: dict[str, int | float]
    sudden: re.Pattern[str]
    gradual: re.Pattern[str]


def _compile(words: TimeAndPersonWords) -> _Patterns:
    durations, since, events = words.durations, words.since, words.past_events
    event_words, unless = (events.words, events.unless_followed_by) if events else ([], [])
    return _Patterns(
        ages=tuple(re.compile(p, re.I) for p in words.ages),
        sexes=tuple(re.compile(p, re.I) for p in words.sexes),
        female=frozenset(words.female),
        duration=_duration_pattern(durations),
        ago_before=frozenset(_normal(w) for w in durations.ago_before),
        numbers=dict(durations.numbers),
        days_of_unit=durations.days_of,
        past_event=re.compile(
            rf"\b(?:{words_pattern(event_words, 'space')})\b"
            rf"(?![^.;\n]*\b(?:{words_pattern(unless, 'space')})\b)",
            re.I,
        ),
        since=re.compile(
            rf"\b(?:{words_pattern(since.words if since else [])})\s+"
            rf"(?P<when>{words_pattern(since.when if since else [])})\b",
            re.I,
        ),
        days_since=dict(since.when) if since else {},
        sudden=re.compile(rf"\b(?:{words_pattern(words.onset.sudden, 'space')})\b", re.I),
        gradual=re.compile(rf"\b(?:{words_pattern(words.onset.gradual, 'space')})\b", re.I),
    )


def _normal(words: str | None) -> str:
    """Lower case, single spaces: how an opening word is compared with a word list."""
    return " ".join((words or "").lower().split())


def _duration_pattern(words: DurationWords) -> re.Pattern[str]:
    """ "for 3 weeks", "a couple of days ago": an opening word, a number or number word, a unit."""
    units = [w for unit in words.units.values() for w in unit.words]
    return re.compile(
        rf"\b(?P<before>{words_pattern(words.before, 'space')})?\s*"
        rf"(?:{_NUMBER}|(?P<word>{words_pattern(words.numbers, 'space')}))\s*-?\s*"
        rf"(?P<unit>{words_pattern(units, 'space')})\b"
        rf"(?P<ago>\s*(?:{words_pattern(words.ago, 'space')}))?",
        re.I,
    )


_compiled = once_per(_compile)


def _patterns(words: TimeAndPersonWords | None) -> _Patterns:
    """The given words compiled, or the shipped English ones."""
    return _compiled(words if words is not None else load_text_resources().time_and_person)


@dataclass(frozen=True)
class Extracted:
    value: object
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TimeCourse:
    """Every stated duration and sudden-onset word, each with its place, so that a duration can
    be tied to the finding in its own sentence rather than to the text as a whole."""

    durations: tuple[Extracted, ...]
    sudden: tuple[Extracted, ...]
    onset: str | None  # "sudden" | "gradual"
    onset_text: Extracted | None

    @property
    def duration(self) -> Extracted | None:
        """The longest stated duration (for showing what was read; never to decide urgency)."""
        return max(self.durations, key=lambda d: float(d.value), default=None)  # type: ignore[arg-type]

    @property
    def duration_days(self) -> float | None:
        longest = self.duration
        return float(longest.value) if longest else None  # type: ignore[arg-type]


def extract_demographics(
    text: str, words: TimeAndPersonWords | None = None
) -> tuple[Extracted | None, Extracted | None]:
    """(age, sex) read from the text, each with the words it came from."""
    patterns = _patterns(words)
    return _age(text, patterns), _sex(text, patterns)


def _age(text: str, patterns: _Patterns) -> Extracted | None:
    """The first age of the first pattern that finds one in range."""
    for pattern in patterns.ages:
        for m in pattern.finditer(text):
            value = int(m.group(1))
            if 0 < value <= MAX_AGE:
                return Extracted(value, m.group(0), m.start(), m.end())
    return None


def _sex(text: str, patterns: _Patterns) -> Extracted | None:
    for pattern in patterns.sexes:
        m = pattern.search(text)
        if m is not None:
            word = m.group(1).lower()
            return Extracted("female" if word in patterns.female else "male", m.group(0), m.start(), m.end())
    return None


def _age_spans(text: str, patterns: _Patterns) -> list[tuple[int, int]]:
    """Where the text states an age ("45 year old", "aged 38", "I'm 70"): never a duration."""
    return [(m.start(), m.end()) for pattern in patterns.ages for m in pattern.finditer(text)]


def _clause_before(text: str, end: int) -> str:
    """The words of the same sentence before `end`, at most 60 characters of them."""
    start = max(0, end - 60)
    cut = max(text.rfind(c, start, end) for c in ".;\n")
    return text[max(start, cut + 1) : end]


_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, cut at full stops, question marks and line breaks: the
    unit a duration or an onset word is taken to qualify (a semicolon goes on with the same
    feature: "weak flow 3 wks ago; static since")."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _durations(text: str, patterns: _Patterns) -> list[Extracted]:
    """Every stated duration in days, except ages and the dates of past events."""
    ages = _age_spans(text, patterns)
    found: list[Extracted] = []
    for m in patterns.duration.finditer(text):
        number = m.start("num") if m.group("num") else m.start("word")
        if any(a <= number < b for a, b in ages):
            continue  # "45 year old woman" is an age, not 45 years of symptoms
        dated = m.group("ago") or _normal(m.group("before")) in patterns.ago_before
        if dated and patterns.past_event.search(_clause_before(text, m.start())):
            continue  # "cancer 5 yrs ago" dates a past event, not how long today's symptoms last
        n = float(m.group("num")) if m.group("num") else patterns.numbers[m.group("word").lower()]
        days = n * patterns.days_of_unit.get(m.group("unit").lower(), 1)
        found.append(Extracted(days, m.group(0).strip(), m.start(), m.end()))
    for m in _SLASH.finditer(text):
        days = int(m.group("num")) * _SLASH_UNITS[m.group("unit")]
        found.append(Extracted(days, m.group(0).strip(), m.start(), m.end()))
    for m in patterns.since.finditer(text):
        days = patterns.days_since[" ".join(m.group("when").lower().split())]
        found.append(Extracted(days, m.group(0), m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def extract_time_course(text: str, words: TimeAndPersonWords | None = None) -> TimeCourse:
    """Every stated duration and sudden-onset word, and whether onset was sudden or gradual."""
    patterns = _patterns(words)
    sudden = tuple(
        Extracted("sudden", m.group(0), m.start(), m.end()) for m in patterns.sudden.finditer(text)
    )
    onset = onset_text = None
    if sudden:
        onset, onset_text = "sudden", sudden[0]
    elif (hit := patterns.gradual.search(text)) is not None:
        onset, onset_text = "gradual", Extracted("gradual", hit.group(0), hit.start(), hit.end())
    durations = tuple(_durations(text, patterns))
    return TimeCourse(durations=durations, sudden=sudden, onset=onset, onset_text=onset_text)
