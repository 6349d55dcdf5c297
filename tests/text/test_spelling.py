"""Spelling correction changes only words that are not words: a real English or medical word is
never turned into a symptom word ("peroneal" is not "perineal", "supine" is not "spine"), while
the typing errors of people and clinicians are still read."""

from __future__ import annotations

import pytest

from backtriage.text import understand
from backtriage.text.pipeline import default_pipeline

#: Real words, each one typing error (or two) from a word of the vocabulary.
REAL_WORDS = [
    "supine", "peroneal", "important", "impatient", "focal", "unilateral", "vertebral", "formal",
    "rarely", "along", "apart", "supportive", "supination", "dysplastic", "phasic", "responsive",
    "acyanotic", "catheterization", "hyperesthesia", "angular", "nearby", "seven", "ahead",
]  # fmt: skip
#: Misspellings and the word meant.
TYPOS = {
    "numbess": "numbness",
    "sciatca": "sciatica",
    "tingleing": "tingling",
    "incontinance": "incontinence",
    "siatica": "sciatica",
}


@pytest.mark.parametrize("word", REAL_WORDS)
def test_a_real_word_is_never_corrected(word: str) -> None:
    assert default_pipeline().concepts.normaliser.correction(word) is None


@pytest.mark.parametrize(("typo", "meant"), sorted(TYPOS.items()))
def test_typing_errors_are_still_read(typo: str, meant: str) -> None:
    assert default_pipeline().concepts.normaliser.correction(typo) == meant


def test_real_words_do_not_become_red_flags() -> None:
    text = (
        "Patient positioned supine. Peroneal nerve intact. Important to keep active. "
        "Focal tenderness at the vertebral level, unilateral."
    )
    answers = understand(text).answers
    assert not any(
        answers.get(f) for f in ("saddle_anaesthesia", "sexual_dysfunction", "bilateral_leg_symptoms")
    )
