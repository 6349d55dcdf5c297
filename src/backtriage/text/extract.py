"""Age, sex, duration and onset from free text, with regular expressions.

These are facts that do not need ConText: "I'm 71", "45M", "62F", "(F, 45)", "72 yo female",
"for 3 months", "x2/52", "3/7", "since this morning". Each extraction keeps the matched span so
the user can see which words were read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backtriage.domain.case import MAX_AGE

__all__ = ["Extracted", "TimeCourse", "extract_demographics", "extract_time_course", "sentence_spans"]

_UNITS_TO_DAYS = {
    "minute": 1 / 1440,
    "min": 1 / 1440,
    "hour": 1 / 24,
    "hr": 1 / 24,
    "h": 1 / 24,
    "day": 1,
    "d": 1,
    "week": 7,
    "wk": 7,
    "w": 7,
    "month": 30,
    "mo": 30,
    "m": 30,
    "year": 365,
    "yr": 365,
    "y": 365,
}
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "a few": 3,
    "few": 3,
    "several": 4,
    "couple of": 2,
}
_SLASH_UNITS = {"7": 1, "52": 7, "12": 30}  # UK notes: 3/7 days, 2/52 weeks, 6/12 months

_AGE_PATTERNS = [
    # "45-year-old", "45 yo", "45 y/o", "45 years old", "45yoM"
    re.compile(r"(?<!\d)(\d{1,3})\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*(?:old|o\b|/o)", re.I),
    re.compile(r"(?<!\d)(\d{1,3})\s*(?:yo|y\.o\.)(?=[mf]?\b)", re.I),
    # "45M", "62 F", "45 male"
    re.compile(r"(?<![\w/.])(\d{1,3})\s*(?:m|f|male|female|man|woman)\b(?![/'])", re.I),
    # "(F, 45)", "F45", "F 45"
    re.compile(
        r"\b(?:m|f|male|female)\s*[,/]?\s*(\d{1,3})\b"
        r"(?!\s*(?:kg|lb|cm|mm|%|/|years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?))",
        re.I,
    ),
    # "I'm 71", "I am 71", "aged 71", "age: 71", "age 71"
    re.compile(
        r"\b(?:i'?m|i\s+am|aged|age:?)\s+(\d{1,3})\b"
        r"(?!\s*(?:kg|kilos?|lbs?|stone|cm|%|weeks?|days?|months?|minutes?|mins?|hours?|times?"
        r"|miles?|ml|mg))",
        re.I,
    ),
]
_SEX_PATTERNS = [
    (re.compile(r"(?<![\w/.])\d{1,3}\s*(?:yo|y/o|y\.o\.)?\s*(m|f)\b(?![/'])", re.I), None),
    (re.compile(r"\(\s*(m|f)\s*,\s*\d{1,3}\s*\)", re.I), None),
    (
        re.compile(
            r"\b(?:i'?m|i\s+am)\s+(?:a\s+)?(?:\d{1,3}\s*(?:-?\s*(?:year|yr)s?\s*-?\s*old\s+)?)?"
            r"(man|male|guy|bloke|gentleman|woman|female|lady|girl)\b",
            re.I,
        ),
        None,
    ),
    (
        re.compile(
            r"\b\d{1,3}\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*(?:old|o)?\s+"
            r"(man|male|gentleman|gent|woman|female|lady|gentlemen)\b",
            re.I,
        ),
        None,
    ),
    (re.compile(r"\b(male|female)\b", re.I), None),
]
_FEMALE = {"f", "female", "woman", "lady", "girl"}

_DURATION = re.compile(
    r"\b(?:for|since|x|over|past|last|of|about|around|nearly|almost)?\s*"
    r"(?:(?P<num>\d+(?:\.\d+)?)|(?P<word>a couple of|couple of|a few|few|several|an?|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|eleven|twelve))\s*-?\s*"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)\b"
    r"(?P<ago>\s*(?:ago|before|earlier|previously|prior))?",
    re.I,
)
#: Words before "N years ago" that make it the date of a past event, not of today's symptoms.
_PAST_EVENT = re.compile(
    r"\b(?:cancer|ca|tumou?r|surgery|operation|op|operated|discectomy|decompression|fusion|"
    r"accident|crash|fall|fell|fracture|broke|diagnosed|dx|treated|treatment|chemo\w*|"
    r"radiotherapy|removed|mastectomy|lumpectomy|episode|stroke|heart attack|baby|birth|"
    r"pregnan\w*|injury|injured)\b(?![^.;\n]*\b(?:started|began|came on|since)\b)",
    re.I,
)
# No leading "\s*" outside the optional "x": it would make the search quadratic in a run of spaces.
_SLASH = re.compile(r"(?<![\d/])(?:x\s*)?(?P<num>\d{1,2})\s*/\s*(?P<unit>52|7|12)(?![\d/])", re.I)
_SINCE = re.compile(
    r"\bsince\s+(?P<when>this\s+morning|last\s+night|yesterday|today|this\s+afternoon|"
    r"this\s+evening|the\s+weekend|last\s+week|last\s+month|last\s+year)\b",
    re.I,
)
_SINCE_DAYS = {
    "this morning": 0.5,
    "today": 0.5,
    "this afternoon": 0.3,
    "this evening": 0.2,
    "last night": 1,
    "yesterday": 1,
    "the weekend": 3,
    "last week": 7,
    "last month": 30,
    "last year": 365,
}
_SUDDEN = re.compile(
    r"\b(?:sudden(?:ly)?|abrupt(?:ly)?|all of a sudden|out of nowhere|"
    r"acute onset)\b",
    re.I,
)
_GRADUAL = re.compile(
    r"\b(?:gradual(?:ly)?|slowly|insidious(?:ly)?|creeping|over time|"
    r"came on slowly|crept up)\b",
    re.I,
)


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


def extract_demographics(text: str) -> tuple[Extracted | None, Extracted | None]:
    """(age, sex) read from the text, each with the words it came from."""
    age = None
    for pattern in _AGE_PATTERNS:
        for m in pattern.finditer(text):
            value = int(m.group(1))
            if 0 < value <= MAX_AGE:
                age = Extracted(value, m.group(0), m.start(), m.end())
                break
        if age:
            break
    sex = None
    for pattern, _ in _SEX_PATTERNS:
        found = pattern.search(text)
        if found is not None:
            m = found
            word = m.group(1).lower()
            sex = Extracted("female" if word in _FEMALE else "male", m.group(0), m.start(), m.end())
            break
    return age, sex


def _age_spans(text: str) -> list[tuple[int, int]]:
    """Where the text states an age ("45 year old", "aged 38", "I'm 70"): never a duration."""
    return [(m.start(), m.end()) for pattern in _AGE_PATTERNS for m in pattern.finditer(text)]


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


def _durations(text: str) -> list[Extracted]:
    """Every stated duration in days, except ages and the dates of past events."""
    ages = _age_spans(text)
    found: list[Extracted] = []
    for m in _DURATION.finditer(text):
        number = m.start("num") if m.group("num") else m.start("word")
        if any(a <= number < b for a, b in ages):
            continue  # "45 year old woman" is an age, not 45 years of symptoms
        if m.group("ago") and _PAST_EVENT.search(_clause_before(text, m.start())):
            continue  # "cancer 5 yrs ago" dates a past event, not how long today's symptoms last
        n = float(m.group("num")) if m.group("num") else _NUMBER_WORDS[m.group("word").lower()]
        unit = m.group("unit").lower().rstrip("s")
        days = n * _UNITS_TO_DAYS.get(unit, _UNITS_TO_DAYS.get(unit[:2], 1))
        found.append(Extracted(days, m.group(0).strip(), m.start(), m.end()))
    for m in _SLASH.finditer(text):
        days = int(m.group("num")) * _SLASH_UNITS[m.group("unit")]
        found.append(Extracted(days, m.group(0).strip(), m.start(), m.end()))
    for m in _SINCE.finditer(text):
        days = _SINCE_DAYS[" ".join(m.group("when").lower().split())]
        found.append(Extracted(days, m.group(0), m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def extract_time_course(text: str) -> TimeCourse:
    """Every stated duration and sudden-onset word, and whether onset was sudden or gradual."""
    sudden = tuple(Extracted("sudden", m.group(0), m.start(), m.end()) for m in _SUDDEN.finditer(text))
    onset = onset_text = None
    if sudden:
        onset, onset_text = "sudden", sudden[0]
    elif (hit := _GRADUAL.search(text)) is not None:
        onset, onset_text = "gradual", Extracted("gradual", hit.group(0), hit.start(), hit.end())
    return TimeCourse(durations=tuple(_durations(text)), sudden=sudden, onset=onset, onset_text=onset_text)
