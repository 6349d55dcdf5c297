"""The metamorphic safety relations in Spanish: harmless rewrites of a Spanish red-flag description
never lower its urgency nor lose a red flag, and denying every red flag never makes an emergency.

The cases are the Spanish blind cases labelled urgent or emergency (tests/text_vignettes/blind_es/),
read with the Spanish folder; the baseline is what the reader says of the unchanged text today.
The additions are Spanish (metamorphic_phrases_es.yaml); the rewrites that only move what is
already there (reordering sentences, line breaks) are the English harness's own.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text import assess_text
from tests.text.metamorphic import (
    Case,
    Transformation,
    Violation,
    _add,
    _blocks,
    _ended,
    _sentences,
    line_breaks,
)

__all__ = [
    "PHRASES_ES",
    "TRANSFORMATIONS_ES",
    "check_denial_es",
    "check_es",
    "deny_es",
    "read_es",
    "spanish_cases",
]

HERE = Path(__file__).resolve().parent
PHRASES_ES: dict[str, Any] = yaml.safe_load(
    (HERE / "metamorphic_phrases_es.yaml").read_text(encoding="utf-8")
)
_RED = (UrgencyLevel.URGENT, UrgencyLevel.EMERGENCY)


@dataclass(frozen=True)
class ReadingEs:
    """What the Spanish reader says of a text: urgency, red flags present, and the age it read."""

    urgency: UrgencyLevel
    red_flags: frozenset[str]
    age: int | None


@functools.lru_cache(maxsize=4096)
def read_es(text: str) -> ReadingEs:
    result = assess_text(text, language="es")
    present = {f.id for f in result.findings if f.present is True}
    red = frozenset(load_knowledge_base().red_flag_findings)
    return ReadingEs(result.urgency, frozenset(present & red), result.text.age if result.text else None)


def _blind_es() -> Iterator[Case]:
    for path in sorted((HERE.parent / "text_vignettes" / "blind_es").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                c = json.loads(line)
                yield Case(c["id"], c["text"], f"blind_es/{path.name}", c["urgency"])


@functools.cache
def spanish_cases() -> tuple[Case, ...]:
    return tuple(_blind_es())


@functools.cache
def spanish_red_flag_cases() -> tuple[Case, ...]:
    return tuple(c for c in spanish_cases() if UrgencyLevel(c.label) in _RED)


def check_es(case: Case, transformed: str, transformation: str = "?") -> Violation | None:
    """A violation if the rewritten text is read as less urgent, or without a red flag it had."""
    before, after = read_es(case.text), read_es(transformed)
    lost = before.red_flags - after.red_flags
    if after.urgency < before.urgency or lost:
        return Violation(case.id, transformation, before.urgency, after.urgency, lost, transformed)
    return None


def _phrase(kind: str) -> Transformation:
    where = {"greetings": "before", "signoffs": "after", "second_complaints": "after"}.get(kind, "either")

    def add(text: str, rng: random.Random) -> str:
        return _add(text, rng.choice(PHRASES_ES[kind]), rng, where)

    return add


def _age(where: str) -> Transformation:
    """The patient's own age if the text states one (a second, different age would be a second
    person), else a random adult age, as the English harness does."""

    def add(text: str, rng: random.Random) -> str:
        stated = read_es(text).age
        phrase = rng.choice(PHRASES_ES["ages"]).format(age=stated or rng.randint(18, 85))
        return _add(text, phrase, rng, where)

    return add


#: A sentence that opens on a heading ("EF: fuerza 4/5 ...", "Plan: RMN ..."), as Spanish notes
#: write them in running text.
_HEADED_SENTENCE = re.compile(r"^\s*[^\W\d_][\w/ .&()-]{0,30}:(?!\d)")


def reorder_within_sections(text: str, rng: random.Random) -> str:
    """Shuffle the sentences of each paragraph, but only among those of the same section: a
    sentence that opens on a heading ("Plan: ...") stays where it is and keeps the sentences after
    it, since what follows a heading in running text is read as that heading's ("Plan: RMN. Ciática
    de 3 semanas ..." would put the history in the plan)."""
    lines = []
    for plain, line in _blocks(text):
        parts = _sentences(line)
        runs: list[tuple[str | None, list[str]]] = [(None, [])]  # (the heading sentence, the rest)
        for i, part in enumerate(parts):
            if (i == 0 and not plain) or _HEADED_SENTENCE.match(part):
                runs.append((part, []))
            else:
                runs[-1][1].append(_ended(part))
        out: list[str] = []
        for head, rest in runs:
            rng.shuffle(rest)
            out += ([head] if head is not None else []) + rest
        lines.append(" ".join(out) if parts else line)
    return "\n".join(lines)


BASE_ES: dict[str, Transformation] = {
    "age_before": _age("before"),
    "age_after": _age("after"),
    "greeting": _phrase("greetings"),
    "signoff": _phrase("signoffs"),
    "unrelated_history": _phrase("unrelated_history"),
    "unrelated_duration": _phrase("unrelated_duration"),
    "second_complaint": _phrase("second_complaints"),
    "reorder_sentences": reorder_within_sections,
    "line_breaks": line_breaks,
}


def _combined(text: str, rng: random.Random) -> str:
    for name in rng.sample(sorted(BASE_ES), rng.randint(2, 3)):
        text = BASE_ES[name](text, rng)
    return text


TRANSFORMATIONS_ES: dict[str, Transformation] = {**BASE_ES, "combined": _combined}


def deny_es(text: str, rng: random.Random) -> str:
    return _add(text, rng.choice(PHRASES_ES["denials"]), rng, "after")


def check_denial_es(case: Case, denied: str) -> Violation | None:
    """A violation if a text read below `emergency` becomes one once every red flag is denied."""
    before, after = read_es(case.text), read_es(denied)
    if before.urgency < UrgencyLevel.EMERGENCY <= after.urgency:
        return Violation(
            case.id, "denial", before.urgency, after.urgency, frozenset(), denied, "denial made an emergency"
        )
    return None
