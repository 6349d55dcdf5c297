"""Metamorphic safety relations for the text reader: harmless rewrites never lower the urgency.

The cases are every red-flag description already in the repository; the baseline of a case is what
the reader says of its unchanged text today (not its label), so these relations test invariance,
not accuracy. Three relations:

  * harmless rewrites (`TRANSFORMATIONS`): an age, a greeting, unrelated history, a second
    complaint, reordered sentences, line breaks, case and typos in filler words, clinicians'
    abbreviations, and combinations of these must never lower the urgency nor take away a
    red-flag finding that was present (`check`);
  * denials (`deny`): a sentence denying every red flag, added to a text read below `emergency`,
    must never make it an emergency (`check_denial`);
  * triggers (`trigger_texts`): a symptom that sitting or bending brings on must never be read as
    relieved by sitting or bending (`check_trigger`); relievers (`reliever_texts`) should be.

The phrases are data, in metamorphic_phrases.yaml next to this module.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text import assess_text

__all__ = [
    "PHRASES",
    "RELIEF",
    "TRANSFORMATIONS",
    "Case",
    "Reading",
    "Violation",
    "all_cases",
    "baseline",
    "check",
    "check_denial",
    "check_trigger",
    "deny",
    "pick_chain",
    "read",
    "red_flag_cases",
    "reliever_texts",
    "render",
    "trigger_texts",
]

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
PHRASES: dict[str, Any] = yaml.safe_load((HERE / "metamorphic_phrases.yaml").read_text(encoding="utf-8"))

#: The finding that sitting or bending forward eases the symptoms.
RELIEF = "relieved_by_sitting_or_flexion"
_RED = (UrgencyLevel.URGENT, UrgencyLevel.EMERGENCY)


# ---- cases and readings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A description and where it comes from; `label` is the urgency its writers gave it."""

    id: str
    text: str
    source: str
    label: str

    def __repr__(self) -> str:  # short, so a failing example never prints the whole text
        return f"Case({self.id!r})"


@dataclass(frozen=True)
class Reading:
    """What the reader says of a text: its urgency and the red-flag findings it found present."""

    urgency: UrgencyLevel
    red_flags: frozenset[str]
    relief: bool


@dataclass(frozen=True)
class Violation:
    """A relation that did not hold for one rewritten text."""

    case_id: str
    relation: str
    before: UrgencyLevel | None
    after: UrgencyLevel
    lost: frozenset[str]
    text: str
    problem: str = ""

    def __repr__(self) -> str:  # short: a failing assertion shows this, not the whole text
        return f"Violation({self.case_id!r}, {self.relation!r})"

    @property
    def lowered(self) -> bool:
        return self.before is not None and self.after < self.before

    def describe(self, max_text: int = 200) -> str:
        shown = self.text if len(self.text) <= max_text else self.text[: max_text - 1] + "…"
        what = self.problem or f"urgency {self.before} -> {self.after}"
        if self.lost:
            what += f"; lost {', '.join(sorted(self.lost))}"
        return f"{self.case_id} [{self.relation}]: {what}\n  text: {shown!r}"


@functools.cache
def _red_flag_ids() -> frozenset[str]:
    return frozenset(load_knowledge_base().red_flag_findings)


@functools.lru_cache(maxsize=4096)
def read(text: str) -> Reading:
    result = assess_text(text)
    present = {f.id for f in result.findings if f.present is True}
    return Reading(result.urgency, frozenset(present & _red_flag_ids()), RELIEF in present)


def baseline(case: Case) -> Reading:
    """What the reader says today of the case's own text."""
    return read(case.text)


def _text_vignettes() -> Iterator[Case]:
    for name in ("lay", "clinical"):
        path = TESTS / "text_vignettes" / f"{name}.yaml"
        for v in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield Case(v["id"], v["text"], f"text_vignettes/{name}.yaml", v["expected"]["urgency"])


def _blind_cases() -> Iterator[Case]:
    for path in sorted((TESTS / "text_vignettes" / "blind").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                c = json.loads(line)
                yield Case(c["id"], c["text"], f"blind/{path.name}", c["urgency"])


def render(vignette: Mapping[str, Any]) -> str:
    """A structured vignette as plain text: its age and sex, then one sentence per answer."""
    phrases = PHRASES["findings"]
    sentences = [_fill(PHRASES["demographics"], vignette["age"], vignette["sex"])]
    for fid, value in vignette["answers"].items():
        if value is not None:
            sentences.append(phrases[fid]["present" if value else "absent"])
    return " ".join(sentences)


def _rendered_vignettes() -> Iterator[Case]:
    for v in yaml.safe_load((TESTS / "vignettes" / "red_flags.yaml").read_text(encoding="utf-8")):
        yield Case(v["id"], render(v), "vignettes/red_flags.yaml (rendered)", v["expected"]["urgency"])


@functools.cache
def all_cases() -> tuple[Case, ...]:
    """Every description the relations draw on, whatever its urgency."""
    return (*_text_vignettes(), *_blind_cases(), *_rendered_vignettes())


@functools.cache
def red_flag_cases() -> tuple[Case, ...]:
    """Every case with a red flag: written texts labelled urgent or emergency, and rendered
    structured vignettes that the reader itself rates urgent or emergency."""
    cases = []
    for case in all_cases():
        if case.source.endswith("(rendered)"):
            if baseline(case).urgency in _RED:
                cases.append(case)
        elif UrgencyLevel(case.label) in _RED:
            cases.append(case)
    return tuple(cases)


def check(case: Case, transformed: str, transformation: str = "?") -> Violation | None:
    """A violation if the rewritten text is read as less urgent than the case, or without a
    red-flag finding the case had."""
    before, after = baseline(case), read(transformed)
    lost = before.red_flags - after.red_flags
    if after.urgency < before.urgency or lost:
        return Violation(case.id, transformation, before.urgency, after.urgency, lost, transformed)
    return None


# ---- harmless rewrites -----------------------------------------------------------------------

Transformation = Callable[[str, random.Random], str]

#: A line that starts with a heading ("PMH:", "O/E:", "Meds:"), as clinicians write them.
_HEADED = re.compile(r"^\s*[A-Za-z][A-Za-z/ &()-]{0,30}:")
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s")
#: Sentence ends: not after "?", so "Any numbness? No." stays together.
_SENTENCE_END = re.compile(r"(?<=[.!])\s+(?=\S)")
_ABBREVIATION_END = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|approx|e\.g|i\.e|vs|etc|St)\.$", re.IGNORECASE)
_AGE = re.compile(
    r"\b(\d{1,2})\s*(?:-\s*)?(?:years?[\s-]*old|yrs?[\s-]*old|y/?o\b|(?-i:[MF])\b)"
    r"|\b(\d{2})[mf](?=[\s.,;)]|$)"
    r"|\b(?:I'?m|I am|aged?:?|he'?s|she'?s|who is)\s+(\d{2})\b",
    re.IGNORECASE,
)
_SEX = re.compile(
    r"\b\d{1,2}\s*(?-i:(?P<letter>[MF]))\b|\b\d{2}(?P<small>[mf])(?=[\s.,;)]|$)"
    r"|\b(?P<word>male|female|man|woman|lady|gentleman|pregnant)\b",
    re.IGNORECASE,
)
_FEMALE_WORDS = {"f", "female", "woman", "lady", "pregnant"}
_PRONOUNS = re.compile(r"\b(he|him|his|she|her)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|me|my|My)\b")
#: The writer speaks of their own body, so the writer is the patient even if a relative is named.
_OWN_BODY = re.compile(
    r"\bmy\s+(?:\w+\s+)?(?:back|legs?|feet|foot|bladder|bowels?|bum|bottom|spine|neck|arms?|hands?"
    r"|thighs?|knees?|hips?|buttocks?|body|skin|tummy|stomach|chest|head|groin|toes)\b",
    re.IGNORECASE,
)
_RELATIVES: dict[str, list[str]] = PHRASES["relatives"]
_RELATIVE = re.compile(
    rf"\b(?P<who>{'|'.join(w for words in _RELATIVES.values() for w in words)})\b"
    r"(?:\s*(?:,|\(|is|who is|aged?|,? ?age)?\s*(?P<age>\d{2})\b)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Patient:
    """Who a text is about, as far as a few patterns tell: age, sex, and whether the writer is
    someone else ("dad 74 collapsed", "my husband who is 58")."""

    age: int | None
    sex: str | None
    proxy: bool


def _patient(text: str) -> _Patient:
    opening = " ".join(text.split()[:12])
    relative = _RELATIVE.search(opening)
    if relative is None or _OWN_BODY.search(text):
        return _Patient(_stated_age(text), _stated_sex(text), proxy=False)
    who = relative.group("who").lower()
    sex = next((s for s in ("female", "male") if who in _RELATIVES[s]), None)
    aged = _RELATIVE.search(text[relative.start() :])
    age = int(aged.group("age")) if aged and aged.group("age") else _stated_age(text)
    return _Patient(age, sex or _stated_sex(text), proxy=True)


def _stated_age(text: str) -> int | None:
    m = _AGE.search(text)
    return int(m.group(1) or m.group(2) or m.group(3)) if m else None


def _stated_sex(text: str) -> str | None:
    m = _SEX.search(text)
    if m:
        said = m.group("letter") or m.group("small") or m.group("word")
        return "female" if said.lower() in _FEMALE_WORDS else "male"
    if _FIRST_PERSON.search(text):
        return None  # "my wife ... she" says nothing of the writer's sex
    pronouns = [p.lower() for p in _PRONOUNS.findall(text)]
    she = sum(p in ("she", "her") for p in pronouns)
    he = len(pronouns) - she
    return None if he == she else "female" if she > he else "male"


def _fill(template: str, age: int | None, sex: str, name: str = "Sam") -> str:
    female = sex == "female"
    words = {
        "age": age,
        "name": name,
        "noun": "woman" if female else "man",
        "adj": "female" if female else "male",
        "letter": "F" if female else "M",
    }
    words |= {k.capitalize(): str(v).capitalize() for k, v in words.items()}
    return template.format(**words)


def _forms(table: dict[str, list[str]], patient: _Patient, rng: random.Random) -> list[str]:
    """The templates that fit: with a sex only if the text gives one or by chance, and in the
    first person only if the writer is the patient."""
    with_sex = patient.sex is not None or rng.random() < 0.5
    kinds = ["neutral", "without_sex"] + (["with_sex"] if with_sex else [])
    if not patient.proxy:
        kinds += ["first_person"] + (["first_person_with_sex"] if with_sex else [])
    return [form for kind in kinds for form in table.get(kind, [])]


def _age_phrase(text: str, rng: random.Random) -> str:
    """An age in one of many forms: the patient's own age and sex if the text states them."""
    patient = _patient(text)
    template = rng.choice(_forms(PHRASES["ages"], patient, rng))
    age = patient.age or rng.randint(18, 85)
    return _fill(template, age, patient.sex or rng.choice(("male", "female")))


def _ended(piece: str) -> str:
    """The piece with a full stop if it ends on a word, so that joining it to the next on one line
    makes two sentences, not one run-on sentence."""
    piece = piece.rstrip()
    return piece if not piece or piece[-1] in ".!?,;:" else piece + "."


def _join(first: str, second: str, rng: random.Random) -> str:
    """Two pieces of text, on one line (as two sentences) or on two lines (as they are); a headed
    line always keeps a line of its own."""
    headed = bool(_HEADED.match(second)) or bool(_HEADED.match(first.rsplit("\n", 1)[-1]))
    if _HEADED.match(first.rsplit("\n", 1)[-1]) and _LIST_ITEM.match(second):
        return f"{first}\n\n{second}"  # a list right under "PMH: ..." would be that history's items
    if headed or rng.random() < 0.3:
        return f"{first}\n{second}"
    return f"{_ended(first)} {second}"


def _add(text: str, sentence: str, rng: random.Random, where: str = "either") -> str:
    if where == "either":
        where = rng.choice(("before", "after"))
    return _join(sentence, text, rng) if where == "before" else _join(text, sentence, rng)


def age_before(text: str, rng: random.Random) -> str:
    return _add(text, _age_phrase(text, rng), rng, "before")


def age_after(text: str, rng: random.Random) -> str:
    return _add(text, _age_phrase(text, rng), rng, "after")


def name_or_sex(text: str, rng: random.Random) -> str:
    patient = _patient(text)
    template = rng.choice(_forms(PHRASES["name_or_sex"], patient, rng))
    sex = patient.sex or rng.choice(("male", "female"))
    return _add(text, _fill(template, None, sex, rng.choice(PHRASES["names"])), rng)


def greeting(text: str, rng: random.Random) -> str:
    return _add(text, rng.choice(PHRASES["greetings"]), rng, "before")


def signoff(text: str, rng: random.Random) -> str:
    return _add(text, rng.choice(PHRASES["signoffs"]), rng, "after")


def unrelated_history(text: str, rng: random.Random) -> str:
    return _add(text, rng.choice(PHRASES["unrelated_history"]), rng)


def unrelated_duration(text: str, rng: random.Random) -> str:
    return _add(text, rng.choice(PHRASES["unrelated_duration"]), rng)


def second_complaint(text: str, rng: random.Random) -> str:
    return _add(text, rng.choice(PHRASES["second_complaints"]), rng, "after")


def _sentences(paragraph: str) -> list[str]:
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(paragraph.strip()):
        if pieces and _ABBREVIATION_END.search(pieces[-1]):
            pieces[-1] += " " + piece
        elif piece:
            pieces.append(piece)
    return pieces


def _plain(line: str) -> bool:
    return bool(line.strip()) and not _HEADED.match(line) and not _LIST_ITEM.match(line)


def _blocks(text: str) -> list[tuple[bool, str]]:
    """The text as (plain, line): consecutive plain lines (a paragraph, perhaps wrapped) are one
    line, as the reader reads them; a headed line, a list item or a blank line stands alone, but
    a line that goes on in lower case wraps the one before it, whatever that was."""
    blocks: list[tuple[bool, str]] = []
    for line in text.split("\n"):
        plain = _plain(line)
        if plain and blocks and blocks[-1][1].strip() and line.lstrip()[:1].islower():
            blocks[-1] = (blocks[-1][0], f"{blocks[-1][1].rstrip()} {line.strip()}")
        elif plain and blocks and blocks[-1][0]:
            blocks[-1] = (True, f"{blocks[-1][1].rstrip()} {line.strip()}")
        else:
            blocks.append((plain, line))
    return blocks


def reorder_sentences(text: str, rng: random.Random) -> str:
    """Shuffle the sentences of each paragraph; a heading or list marker keeps its first sentence."""
    lines = []
    for plain, line in _blocks(text):
        parts = _sentences(line)
        fixed = [] if plain else parts[:1]
        rest = [_ended(part) for part in parts[len(fixed) :]]
        rng.shuffle(rest)
        lines.append(" ".join(fixed + rest) if parts else line)
    return "\n".join(lines)


def line_breaks(text: str, rng: random.Random) -> str:
    """The sentences of each paragraph on lines of their own (or paragraphs of their own, or a
    "- " list), or paragraphs joined into one; headed lines and list items are left as they are."""
    mode = rng.choice(("split", "paragraphs", "list", "join"))
    blocks = _blocks(text)
    if mode == "join":
        out: list[tuple[bool, str]] = []
        blanks: list[tuple[bool, str]] = []
        for plain, line in blocks:
            if not line.strip():
                blanks.append((plain, line))
            elif plain and out and out[-1][0]:
                prev = out[-1][1].rstrip()
                out[-1] = (True, prev + (" " if prev[-1] in ".!?,;:" else ". ") + line.strip())
                blanks = []
            else:
                out += blanks + [(plain, line)]
                blanks = []
        return "\n".join(line for _, line in out + blanks)
    separator = {"split": "\n", "paragraphs": "\n\n", "list": "\n- "}[mode]
    lead = "- " if mode == "list" else ""
    lines = []
    for i, (plain, line) in enumerate(blocks):
        if plain and mode == "list" and i and not blocks[i - 1][0] and blocks[i - 1][1].strip():
            lines.append("")  # a list right under "PMH: ..." would be read as that history's items
        lines.append(lead + separator.join(_sentences(line)) if plain else line)
    return "\n".join(lines)


def case_and_typos(text: str, rng: random.Random) -> str:
    """All lower case, all upper case, no apostrophes, or a few typos in filler words."""
    mode = rng.choice(("lower", "upper", "apostrophes", "typos"))
    if mode == "lower":
        return text.lower()
    if mode == "upper":
        return text.upper()
    if mode == "apostrophes":
        return re.sub("['\u2019]", "", text)
    typos: dict[str, list[str]] = PHRASES["typos"]
    spots = list(re.finditer(rf"\b(?:{'|'.join(typos)})\b", text, re.IGNORECASE))
    chosen = {m.start() for m in rng.sample(spots, min(len(spots), rng.randint(1, 3)))}

    def typo(m: re.Match[str]) -> str:
        if m.start() not in chosen:
            return m.group(0)
        wrong = rng.choice(typos[m.group(0).lower()])
        return wrong.capitalize() if m.group(0)[0].isupper() else wrong

    return re.sub(rf"\b(?:{'|'.join(typos)})\b", typo, text, flags=re.IGNORECASE)


def clinician_abbreviations(text: str, rng: random.Random) -> str:
    """Some of "patient" -> "pt", "complains of" -> "c/o", "history" -> "hx", "with" -> "w/",
    "both legs" -> "b/l legs" ..."""
    rules = PHRASES["abbreviations"]
    for pattern, short in rng.sample(rules, rng.randint(1, len(rules))):

        def shorten(m: re.Match[str], short: str = short) -> str:
            return short.capitalize() if m.group(0)[0].isupper() else short

        text = re.sub(rf"\b{pattern}\b", shorten, text, flags=re.IGNORECASE)
    return text


BASE: dict[str, Transformation] = {
    f.__name__: f
    for f in (
        age_before,
        age_after,
        name_or_sex,
        greeting,
        signoff,
        unrelated_history,
        unrelated_duration,
        reorder_sentences,
        line_breaks,
        case_and_typos,
        clinician_abbreviations,
        second_complaint,
    )
}


def pick_chain(rng: random.Random) -> list[str]:
    """Two or three different rewrites, in a random order."""
    return rng.sample(sorted(BASE), rng.randint(2, 3))


def combined(text: str, rng: random.Random) -> str:
    for name in pick_chain(rng):
        text = BASE[name](text, rng)
    return text


#: Every harmless rewrite by name; "combined" applies two or three of the others.
TRANSFORMATIONS: dict[str, Transformation] = {**BASE, "combined": combined}


# ---- denials -----------------------------------------------------------------------------------


def deny(text: str, rng: random.Random, which: int | None = None) -> str:
    """The text with a sentence that denies every red flag after it (the `which`-th phrasing, or
    one at random)."""
    denials = PHRASES["denials"]
    return _add(text, denials[which] if which is not None else rng.choice(denials), rng, "after")


def check_denial(case: Case, denied: str) -> Violation | None:
    """A violation if a case read below `emergency` becomes one once every red flag is denied;
    None when the case is already an emergency (the relation does not apply)."""
    before = baseline(case)
    if before.urgency is UrgencyLevel.EMERGENCY:
        return None
    after = read(denied)
    if after.urgency is UrgencyLevel.EMERGENCY:
        gained = after.red_flags - before.red_flags
        problem = f"urgency {before.urgency} -> emergency after denials" + (
            f"; gained {', '.join(sorted(gained))}" if gained else ""
        )
        return Violation(case.id, "denial", before.urgency, after.urgency, frozenset(), denied, problem)
    return None


# ---- triggers and relievers ------------------------------------------------------------------


def _combine(kind: str) -> list[tuple[str, str]]:
    symptoms = PHRASES["trigger"]["symptoms"]
    parts = PHRASES["trigger"][kind]
    texts = []
    for i, symptom in enumerate(symptoms):
        head = symptom[0].upper() + symptom[1:]
        for j, clause in enumerate(parts["clause"]):
            texts.append((f"{kind}:s{i}c{j}", f"{head} {clause}"))
        for j, sentence in enumerate(parts["sentence"]):
            texts.append((f"{kind}:s{i}t{j}", f"{head}. {sentence}"))
    return texts


def trigger_texts() -> list[tuple[str, str]]:
    """(id, text): symptoms that sitting or bending brings on."""
    return _combine("triggers")


def reliever_texts() -> list[tuple[str, str]]:
    """(id, text): symptoms that sitting or bending eases."""
    return _combine("relievers")


def check_trigger(text_id: str, text: str) -> Violation | None:
    """A violation if what brings the symptom on is read as relieving it."""
    reading = read(text)
    if reading.relief:
        problem = f"{RELIEF} read as present"
        return Violation(text_id, "trigger", None, reading.urgency, frozenset(), text, problem)
    return None
