"""A note as a document: its headings, the role of each section, the kind of note, and how the
roles change what is read (cases in tests/text/layout_cases.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.domain.note import NoteKind, SectionRole
from backtriage.text import understand
from backtriage.text.layout import read_layout
from backtriage.text.resources import load_text_resources

CASES: list[dict[str, Any]] = yaml.safe_load(
    Path(__file__).with_name("layout_cases.yaml").read_text(encoding="utf-8")
)["cases"]
SPEC = load_text_resources().layout


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_sections_and_kind(case: dict[str, Any]) -> None:
    layout = read_layout(case["text"], SPEC)
    assert layout.kind is NoteKind(case["kind"])
    found = [[s.heading, s.role.value] for s in layout.sections]
    expected = [pair for pair in case["sections"] if pair[1] != "-"]
    assert found == expected


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_what_is_read_in_each_section(case: dict[str, Any]) -> None:
    answers = understand(case["text"]).answers
    for finding in case["present"]:
        assert answers.get(finding) is True, finding
    for finding in case["not_present"]:
        assert answers.get(finding) is not True, finding


def test_sections_cover_the_note_in_order() -> None:
    """Each section runs from its heading to the next; none overlaps another."""
    for case in CASES:
        sections = read_layout(case["text"], SPEC).sections
        for before, after in zip(sections, sections[1:], strict=False):
            assert before.start < before.end <= after.start


def test_an_unknown_heading_ends_the_section_before_it() -> None:
    text = "PC: back pain\nHPI: 2 days\nPMH: asthma\nRed flags: numb bum\nPlan: ED now"
    layout = read_layout(text, SPEC)
    offset = text.index("numb bum")
    assert layout.section_at(offset) is None  # read as ordinary text, not as past history
    assert layout.section_at(text.index("asthma")).role is SectionRole.HISTORY  # type: ignore[union-attr]


_HEADINGS = ["CHIEF COMPLAINT", "HISTORY OF PRESENT ILLNESS", "PAST MEDICAL HISTORY", "PLAN", "IMPRESSION"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_HEADINGS), min_size=0, max_size=6),
    st.lists(st.text(alphabet="abcdefghij .,;:\n", max_size=40), min_size=0, max_size=6),
)
def test_any_text_gets_a_layout(headings: list[str], bodies: list[str]) -> None:
    """Whatever the text, a layout comes back and every section lies inside the text."""
    text = "\n".join(f"{h}: {b}" for h, b in zip(headings, bodies, strict=False)) + "".join(bodies)
    layout = read_layout(text, SPEC)
    for section in layout.sections:
        assert 0 <= section.start < section.end <= len(text)
    assert layout.is_document == bool(layout.sections)
