"""Age, sex, duration and onset from free text, with regular expressions.

These are facts that do not need ConText: "I'm 71", "45M", "62F", "(F, 45)", "72 yo female",
"for 3 months", "x2/52", "3/7", "since this morning". Each extraction keeps the matched span so
the user can see which words were read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backtriage.domain.case import MAX_AGE

__all__ = ["Extracted", "TimeCourse", "extract_demographics", "extract_time_course"]

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
    re.compile(r"\b(?:m|f|male|female)\s*[,/]?\s*(\d{1,3})\b(?!\s*(?:kg|lb|cm|mm|%|/))", re.I),
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
    duration_days: float | None
    duration: Extracted | None
    onset: str | None  # "sudden" | "gradual"
    onset_text: Extracted | None


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


def _clause_before(text: str, end: int) -> str:
    """The words of the same sentence before `end`, at most 60 characters of them."""
    start = max(0, end - 60)
    cut = max(text.rfind(c, start, end) for c in ".;\n")
    return text[max(start, cut + 1) : end]


def extract_time_course(text: str) -> TimeCourse:
    """The longest stated duration, and whether onset was sudden or gradual."""
    candidates: list[tuple[float, Extracted]] = []
    for m in _DURATION.finditer(text):
        if m.group("ago") and _PAST_EVENT.search(_clause_before(text, m.start())):
            continue  # "cancer 5 yrs ago" dates a past event, not how long today's symptoms last
        n = float(m.group("num")) if m.group("num") else _NUMBER_WORDS[m.group("word").lower()]
        unit = m.group("unit").lower().rstrip("s")
        days = n * _UNITS_TO_DAYS.get(unit, _UNITS_TO_DAYS.get(unit[:2], 1))
        candidates.append((days, Extracted(days, m.group(0).strip(), m.start(), m.end())))
    for m in _SLASH.finditer(text):
        days = int(m.group("num")) * _SLASH_UNITS[m.group("unit")]
        candidates.append((days, Extracted(days, m.group(0).strip(), m.start(), m.end())))
    for m in _SINCE.finditer(text):
        days = _SINCE_DAYS[" ".join(m.group("when").lower().split())]
        candidates.append((days, Extracted(days, m.group(0), m.start(), m.end())))
    duration = max(candidates, key=lambda c: c[0])[1] if candidates else None
    onset = onset_text = None
    for label, pattern in (("sudden", _SUDDEN), ("gradual", _GRADUAL)):
        hit = pattern.search(text)
        if hit is not None:
            onset, onset_text = label, Extracted(label, hit.group(0), hit.start(), hit.end())
            break
    return TimeCourse(
        duration_days=float(duration.value) if duration else None,  # type: ignore[arg-type]
        duration=duration,
        onset=onset,
        onset_text=onset_text,
    )
