"""The pre-pass changes nothing (prepass.py): the same findings with it as without, on every
case text of the suite, on a sample of real notes, and on notes put together at random from
their sentences, headings and line breaks. The full real-note corpus is compared by
`benchmarks/bench_screen.py --corpus`."""

from __future__ import annotations

import importlib
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.text.pipeline import TextPipeline, default_pipeline
from backtriage.text.prepass import Window
from backtriage.text.understand import TextFindings, clean_text, understand

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def _pre_pass_on_every_text() -> Iterator[None]:
    """Short texts are read whole in use (understand.SKIM_FROM); here the pre-pass reads every
    text, so that the comparison covers the messages too."""
    with pytest.MonkeyPatch.context() as patch:
        # the module, not the function of the same name the package exports
        patch.setattr(importlib.import_module("backtriage.text.understand"), "SKIM_FROM", 0)
        yield


#: Real clinical notes beside the repository (the project keeps none of their text).
REAL_NOTES = TESTS.parent.parent / "shared" / "eval" / "notes" / "mtsamples-dev.jsonl"
#: Notes of the real-note sample read in every run (the whole corpus is the benchmark's).
REAL_SAMPLE = 80


def _texts_in(value: Any) -> list[str]:
    """Every string under a "text" key, at any depth."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == "text" and isinstance(v, str)]
        return found + [t for v in value.values() for t in _texts_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts_in(v)]
    return []


def _case_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(TESTS.rglob("*.yaml")) + sorted(TESTS.rglob("*.jsonl")):
        if path.suffix == ".jsonl":
            rows = [
                json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
        else:
            rows = [yaml.safe_load(path.read_text(encoding="utf-8"))]
        texts.extend(_texts_in(rows))
    return list(dict.fromkeys(t for t in texts if t.strip()))


CASE_TEXTS = _case_texts()


def _reading(found: TextFindings) -> tuple[dict[str, bool], list[dict[str, Any]], str]:
    mentions = [m.model_dump() for m in found.reading.mentions] if found.reading else []
    return found.answers, mentions, found.layout.kind.value if found.layout.kind else ""


def _same_either_way(text: str, pipe: TextPipeline) -> None:
    skimmed = _reading(understand(text, pipe, skim=True))
    assert skimmed == _reading(understand(text, pipe, skim=False))


def test_the_suite_has_case_texts_to_compare() -> None:
    assert len(CASE_TEXTS) > 500


@pytest.mark.parametrize("start", range(0, len(CASE_TEXTS), 250))
def test_every_case_text_reads_the_same_with_and_without_the_pre_pass(start: int) -> None:
    pipe = default_pipeline()
    for text in CASE_TEXTS[start : start + 250]:
        _same_either_way(text, pipe)


@pytest.mark.skipif(not REAL_NOTES.exists(), reason="the real-note sample is not beside the repository")
def test_real_notes_read_the_same_with_and_without_the_pre_pass() -> None:
    lines = REAL_NOTES.read_text(encoding="utf-8").splitlines()
    notes = [json.loads(line)["text"] for line in random.Random(19).sample(lines, REAL_SAMPLE)]
    pipe = default_pipeline()
    skipped = 0
    for note in notes:
        _same_either_way(note, pipe)
        skipped += sum(len(p) for p in _pieces(note)) - sum(
            w.end - w.start for p in _pieces(note) for w in pipe.prepass.windows(p)
        )
    # the pass is worth having: real notes are mostly sentences nothing can be read from
    assert skipped > 0.3 * sum(len(n) for n in notes)


def _pieces(text: str) -> list[str]:
    from backtriage.text.understand import _piece_end

    text, pieces, start = clean_text(text), [], 0
    while start < len(text):
        end = _piece_end(text, start)
        pieces.append(text[start:end])
        start = end
    return pieces


# ---- notes put together at random ----------------------------------------------------------

_SENTENCES = [s.strip() for t in CASE_TEXTS for s in re.split(r"(?<=[.!?;])\s+|\n+", t) if s.strip()]
_HEADINGS = [
    "HISTORY OF PRESENT ILLNESS:",
    "PMH:",
    "FAMILY HISTORY:",
    "Family History:",
    "fhx:",
    "SOCIAL HISTORY:",
    "PLAN:",
    "Impression:",
    "Allergies",
    "Red flags:",
    "O/E:",
    "A -",
]
_JOINS = [" ", ". ", "; ", "! ", "\n", "\n\n", " \n", "\n \n", ",\n", "\n- ", "\n1) ", ":\n"]

_notes = st.lists(
    st.one_of(
        st.sampled_from(_SENTENCES),
        st.sampled_from(_HEADINGS),
        st.sampled_from(_SENTENCES).map(str.upper),
        st.sampled_from(_SENTENCES).map(str.lower),
    ),
    min_size=2,
    max_size=40,
).flatmap(
    lambda parts: st.lists(st.sampled_from(_JOINS), min_size=len(parts), max_size=len(parts)).map(
        lambda joins: "".join(p + j for p, j in zip(parts, joins, strict=True))
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_notes)
def test_random_notes_read_the_same_with_and_without_the_pre_pass(note: str) -> None:
    _same_either_way(note, default_pipeline())


# ---- the parts the pass rests on -----------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_notes)
def test_every_cut_is_a_sentence_start_of_the_whole_text(note: str) -> None:
    """A segment begins where the pipeline's sentence splitter begins a sentence."""
    pipe = default_pipeline()
    for piece in _pieces(note):
        cuts = set(pipe.prepass.segments(piece)[1:])
        doc = pipe(piece)
        starts = {t.idx for t in doc if t.is_sent_start}
        assert cuts <= starts


def test_windows_cover_each_piece_in_order_without_overlap() -> None:
    pipe = default_pipeline()
    for text in CASE_TEXTS[:300]:
        for piece in _pieces(text):
            windows = pipe.prepass.windows(piece)  # none when nothing can be read
            ends = [0] + [w.end for w in windows]
            assert all(w.start >= e and w.end > w.start for w, e in zip(windows, ends, strict=False))
            assert all(w.end <= len(piece) for w in windows)


def test_a_note_with_nothing_to_read_is_skipped_mostly() -> None:
    pipe = default_pipeline()
    filler = "The patient tolerated the procedure well and was taken to recovery in good condition. " * 30
    note = "Numbness in the saddle area since this morning. " + filler
    windows = pipe.prepass.windows(clean_text(note))
    assert sum(w.end - w.start for w in windows) < len(note) / 4
    assert windows[0] == Window(0, windows[0].end)
