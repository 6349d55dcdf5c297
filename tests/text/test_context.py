"""ConText behaviour the issue names, through the same function the pipeline uses."""

from __future__ import annotations

import pytest

from backtriage.errors import InvalidInputError
from backtriage.text import context_of


@pytest.mark.parametrize(
    ("sentence", "target"),
    [
        ("Saddle anaesthesia is absent.", "saddle anaesthesia"),
        ("No leg weakness or foot drop.", "foot drop"),
        ("Pt denies saddle anaesthesia, urinary retention or faecal incontinence.", "faecal incontinence"),
        ("Denies fever, weight loss or night sweats.", "night sweats"),
        ("Bladder and bowels normal.", "bowels"),
        ("My bladder is fine.", "bladder"),
        ("Extremities: No clubbing, cyanosis or edema.", "edema"),
        ("His nausea and vomiting resolved.", "vomiting"),
    ],
)
def test_negated(sentence: str, target: str) -> None:
    attrs = context_of(sentence, target)
    assert attrs.negated, attrs
    assert not attrs.uncertain and not attrs.hypothetical


@pytest.mark.parametrize(
    ("sentence", "target"),
    [
        ("Concern for cauda equina syndrome.", "cauda equina syndrome"),
        ("Rule out spinal epidural abscess.", "spinal epidural abscess"),
        ("?CES - needs MRI.", "CES"),
        ("I think my bum might be a bit numb.", "numb"),
        ("Evaluate for discitis.", "discitis"),
    ],
)
def test_uncertain_not_negated(sentence: str, target: str) -> None:
    attrs = context_of(sentence, target)
    assert attrs.uncertain, attrs
    assert not attrs.negated


@pytest.mark.parametrize(
    ("sentence", "target"),
    [
        ("Return if bladder symptoms develop.", "bladder symptoms"),
        ("If I ever lose control of my bladder what should I do?", "lose control of my bladder"),
        ("Safety-netted re saddle anaesthesia.", "saddle anaesthesia"),
        ("Come back if you get numbness between your legs.", "numbness between your legs"),
    ],
)
def test_hypothetical(sentence: str, target: str) -> None:
    attrs = context_of(sentence, target)
    assert attrs.hypothetical, attrs
    assert not attrs.negated


@pytest.mark.parametrize(
    ("sentence", "target", "experiencer"),
    [
        ("My dad had cauda equina syndrome.", "cauda equina syndrome", "family"),
        ("FHx: mother breast cancer.", "breast cancer", "family"),
        ("My friend got foot drop from a slipped disc.", "foot drop", "other"),
        ("I have numbness in my legs.", "numbness in my legs", "patient"),
        ("My dad drove me in because I can't feel when I wipe.", "can't feel when I wipe", "patient"),
    ],
)
def test_experiencer(sentence: str, target: str, experiencer: str) -> None:
    assert context_of(sentence, target).experiencer.value == experiencer


@pytest.mark.parametrize(
    ("sentence", "target"),
    [
        ("History of breast cancer.", "breast cancer"),
        ("I had sciatica 10 years ago.", "sciatica"),
        ("PMH: diabetes, hypertension.", "hypertension"),
    ],
)
def test_historical(sentence: str, target: str) -> None:
    assert context_of(sentence, target).historical


@pytest.mark.parametrize(
    ("sentence", "target"),
    [
        ("2/52 hx of LBP with left sciatica.", "LBP"),
        ("I get tingling if I sit too long.", "tingling"),
        ("I can't get it up, which has never happened before.", "can't get it up"),
    ],
)
def test_not_historical_or_hypothetical(sentence: str, target: str) -> None:
    attrs = context_of(sentence, target)
    assert not attrs.historical and not attrs.hypothetical and not attrs.negated, attrs


def test_affirmed_sentence_has_no_modifiers() -> None:
    attrs = context_of("Severe low back pain with numbness around the back passage.", "numbness")
    assert (attrs.negated, attrs.uncertain, attrs.historical, attrs.hypothetical) == (
        False,
        False,
        False,
        False,
    )


def test_target_must_occur() -> None:
    with pytest.raises(InvalidInputError, match="does not occur"):
        context_of("No leg weakness.", "fever")
    with pytest.raises(InvalidInputError, match="empty"):
        context_of("No leg weakness.", "  ")
