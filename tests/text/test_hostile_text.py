"""Hostile text: long runs of punctuation or emoji, RTL marks, NULs, 100,000 characters.

Reading must stay linear in the text's length. Wall-clock limits belong in the benchmarks
(`benchmarks/bench_text.py` times these inputs), so these tests pin down the structure that makes
it linear instead: no long run the tokenizer would search quadratically, pieces of bounded size
for ConText, and offsets that still point into the original text.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.text import understand
from backtriage.text.understand import LONG_RUN, MAX_TEXT_CHARS, PIECE_CHARS, _piece_end, clean_text

HOSTILE_CHARS = st.sampled_from(
    ["!", "?", ".", "😀", "👨‍👩‍👧", "\u202e", "\u200f", "\x00", "ب", "\t", "/", "a", " "]
)
runs = st.builds(lambda c, n: c * n, HOSTILE_CHARS, st.integers(min_value=1, max_value=3000))
hostile = st.lists(
    st.one_of(runs, st.sampled_from(["numb back ", "can't feel when I wipe. "])), max_size=12
).map("".join)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=hostile)
def test_no_long_run_of_symbols_reaches_the_tokenizer(text: str) -> None:
    cleaned = clean_text(text)
    assert len(cleaned) == len(text)  # offsets are kept
    for run in re.findall(rf"\S{{{LONG_RUN},}}", cleaned):
        assert re.fullmatch(r"\w+", run), "a long run still holds symbols the tokenizer splits one by one"


@SETTINGS
@given(text=hostile)
def test_hostile_text_is_read_with_valid_offsets(text: str) -> None:
    found = understand(text)
    assert found.reading is not None
    for m in found.reading.mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end].strip()


@settings(max_examples=20, deadline=None)
@given(text=st.text(min_size=PIECE_CHARS, max_size=4 * PIECE_CHARS))
def test_pieces_are_bounded_and_cover_the_text(text: str) -> None:
    start, ends = 0, []
    while start < len(text):
        end = _piece_end(text, start)
        assert start < end <= start + PIECE_CHARS
        ends.append(end)
        start = end
    assert ends[-1] == len(text)


def test_the_largest_hostile_texts_are_read() -> None:
    for text in ("!" * MAX_TEXT_CHARS, "😀" * MAX_TEXT_CHARS, " " * (MAX_TEXT_CHARS - 9) + "numb back"):
        found = understand(text)
        assert found.reading is not None and found.reading.characters == len(text)


def test_a_mention_after_a_piece_boundary_keeps_its_place() -> None:
    text = "Lower back ache. " * 300 + "I can't feel anything when I wipe."
    found = understand(text)
    assert found.answers.get("saddle_anaesthesia") is True
    mention = next(m for m in found.reading.mentions if m.finding == "saddle_anaesthesia")  # type: ignore[union-attr]
    assert text[mention.start : mention.end] in text[len("Lower back ache. ") * 300 :]
