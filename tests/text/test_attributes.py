"""Stage 3, attributes: ConText's answer for a sentence, corrected by what the whole text shows."""

from __future__ import annotations

from backtriage.knowledge.loader import KnowledgeBase
from backtriage.text.attributes import MentionInContext, cues_of, in_context, read_surroundings
from backtriage.text.context import Experiencer
from backtriage.text.layout import read_layout
from backtriage.text.mentions import find_mentions
from backtriage.text.pipeline import default_pipeline
from backtriage.text.understand import _read_in_pieces, clean_text


def _read(raw: str, kb: KnowledgeBase) -> tuple[bool, dict[str, MentionInContext]]:
    """(written about someone else, mentions by finding) for a text, stages 1 to 3."""
    pipe = default_pipeline()
    text = clean_text(raw)
    layout = read_layout(text, pipe.resources.layout)
    found = find_mentions(_read_in_pieces(pipe, text), kb)
    around = read_surroundings(raw, text, layout, found, cues_of(pipe.resources.concepts), kb)
    return around.proxy, {m.finding: in_context(m, around) for m in found}


def test_a_past_history_list_in_a_message_is_past(kb: KnowledgeBase) -> None:
    """The list under "PMH:" is history; the line after it is today."""
    _, mentions = _read("PMH:\n- sciatica\n- asthma\nNow my left leg is numb", kb)
    assert mentions["radiates_to_leg"].attrs.historical
    assert not mentions["unilateral_symptoms"].attrs.historical


def test_a_text_about_a_relative_reads_their_symptoms_as_the_patients(kb: KnowledgeBase) -> None:
    proxy, mentions = _read("My mum is 81 and she can't feel her bum when she wipes", kb)
    assert proxy
    assert mentions["saddle_anaesthesia"].attrs.experiencer is Experiencer.PATIENT


def test_family_history_told_by_the_patient_stays_a_relatives(kb: KnowledgeBase) -> None:
    """ "My dad had ..." is the patient telling family history, when their own body is in the text."""
    proxy, _ = _read("My dad had prostate cancer. My legs are numb and I have back pain.", kb)
    assert not proxy


def test_a_mention_outside_a_notes_sections_has_no_role(kb: KnowledgeBase) -> None:
    _, mentions = _read("numb bum since yesterday", kb)
    assert mentions["saddle_anaesthesia"].section is None and mentions["saddle_anaesthesia"].role is None


def test_a_relative_opening_a_line_after_a_greeting_is_who_the_text_is_about(kb: KnowledgeBase) -> None:
    """Cleaning joins "quick question" and "dad 74 collapsed" into one sentence; the line as
    written still opens on dad, so his collapse is the patient's, not family history."""
    proxy, mentions = _read(
        "hi there, quick question\ndad 74 collapsed in the shed, sudden bad back pain", kb
    )
    assert proxy and mentions["fainting_or_collapse"].attrs.experiencer is Experiencer.PATIENT
