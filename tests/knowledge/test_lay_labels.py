"""Every finding has a lay label in plain words: the statement shown after "You said:".

The check is a small helper so that it can be shown to fail on deliberately bad labels, not just
to pass on the shipped ones.
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import Finding

#: Word beginnings of clinical jargon a lay label must not use (matched at the start of a word,
#: so "anaesthe" catches "anaesthesia" and "anaesthetic").
JARGON = (
    "abdom",
    "acute",
    "anaesthe",
    "anesthe",
    "aneurysm",
    "ataxi",
    "babinski",
    "bilateral",
    "cervical",
    "chronic",
    "claudicat",
    "dermatom",
    "dysfunction",
    "dyspn",
    "febrile",
    "flexion",
    "gait",
    "hyperreflex",
    "immunosupp",
    "incontinen",
    "intravenous",
    "ischaemi",
    "ischemi",
    "lumbar",
    "mottl",
    "myelopath",
    "neurogenic",
    "neurolog",
    "neuropath",
    "onset",
    "paraesthe",
    "paresthe",
    "paresis",
    "perianal",
    "perine",
    "progressive",
    "pyrex",
    "radicul",
    "sacral",
    "saddle",
    "sensory",
    "sphincter",
    "syncop",
    "thoracic",
    "trauma",
    "unilateral",
    "urinary",
)

#: Names that may start a label with a capital letter (abbreviations such as "HIV" need no entry).
NAMES = frozenset({"Marfan"})

MAX_WORDS = 12

#: Clinical labels with these words change meaning without them, so the lay label keeps them.
KEPT_WORDS = {"new": ("new", "sudden"), "sudden": ("sudden",), "both": ("both",)}


def lay_label_problems(text: str) -> list[str]:
    """What is wrong with a lay label: jargon, a full stop, a capital, too many words."""
    problems = [f"uses the jargon '{stem}…'" for stem in JARGON if re.search(rf"\b{stem}", text, re.I)]
    if text.rstrip().endswith("."):
        problems.append("ends with a full stop")
    first = text.split()[0] if text.split() else ""
    if first[:1].isupper() and not (first.isupper() or first.strip("(,") in NAMES):
        problems.append(f"starts with a capital ('{first}') that is not an abbreviation or a name")
    if len(text.split()) > MAX_WORDS:
        problems.append(f"has {len(text.split())} words (at most {MAX_WORDS})")
    return problems


def lost_words(label: str, lay_label: str) -> list[str]:
    """Words of the clinical label (new, sudden, both) that the lay label drops."""
    return [
        word
        for word, kept in KEPT_WORDS.items()
        if re.search(rf"\b{word}", label, re.I)
        and not any(re.search(rf"\b{k}", lay_label, re.I) for k in kept)
    ]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("Saddle anaesthesia", "jargon 'anaesthe"),
        ("new bladder dysfunction", "jargon 'dysfunction"),
        ("weakness in both legs (bilateral)", "jargon 'bilateral"),
        ("numb between the legs or around the bottom.", "full stop"),
        ("Numb between the legs", "capital"),
        ("one two three four five six seven eight nine ten eleven twelve thirteen", "words"),
    ],
)
def test_the_check_catches_bad_lay_labels(bad: str, problem: str) -> None:
    assert any(problem in p for p in lay_label_problems(bad)), lay_label_problems(bad)
    assert lost_words("New bladder dysfunction", "trouble peeing, or leaking") == ["new"]


def test_the_check_lets_plain_words_names_and_abbreviations_through() -> None:
    for good in ("numb between the legs or around the bottom", "HIV medicines", "Marfan syndrome"):
        assert lay_label_problems(good) == []


def test_a_finding_without_a_lay_label_is_refused() -> None:
    with pytest.raises(ValidationError, match="lay_label"):
        Finding.model_validate(
            {"id": "x", "label": "Back pain", "question": "Back pain?", "group": "pattern"}
        )


def test_every_shipped_lay_label_is_plain_and_says_what_the_label_says(kb: KnowledgeBase) -> None:
    problems = {
        fid: [*lay_label_problems(f.lay_label), *(f"drops '{w}'" for w in lost_words(f.label, f.lay_label))]
        for fid, f in kb.findings.items()
    }
    assert {fid: p for fid, p in problems.items() if p} == {}
    assert len({f.lay_label for f in kb.findings.values()}) == len(kb.findings), "lay labels repeat"
