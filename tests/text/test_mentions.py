"""Stage 2, mentions: what the pipeline found, placed in the whole text, each once."""

from __future__ import annotations

from spacy.tokens import Doc, Span

from backtriage.knowledge.loader import KnowledgeBase
from backtriage.text.attributes import cues_of
from backtriage.text.mentions import find_mentions, laterality, negated_just_before
from backtriage.text.pipeline import default_pipeline
from backtriage.text.resources import ABSENT_SUFFIX


def _doc(text: str) -> Doc:
    return default_pipeline()(text)


def _span(doc: Doc, words: str, label: str = "") -> Span:
    start = doc.text.index(words)
    span = doc.char_span(start, start + len(words), label=label)
    assert span is not None
    return span


def test_each_mention_is_placed_in_the_whole_text_once(kb: KnowledgeBase) -> None:
    """A piece's offsets are added; a mention found twice counts once; unknown labels are dropped."""
    doc = _doc("numb bum and a wet bed")
    numb = _span(doc, "numb bum", "saddle_anaesthesia")
    found = find_mentions([(100, numb), (100, numb), (0, _span(doc, "wet bed", "no_such_finding"))], kb)
    assert [(m.finding, m.start, m.end, m.denies) for m in found] == [("saddle_anaesthesia", 100, 108, False)]


def test_a_denial_phrase_is_marked_as_one(kb: KnowledgeBase) -> None:
    doc = _doc("bladder and bowels normal")
    denial = _span(doc, "bladder and bowels normal", "bladder_dysfunction" + ABSENT_SUFFIX)
    (mention,) = find_mentions([(0, denial)], kb)
    assert mention.finding == "bladder_dysfunction" and mention.denies


def test_the_side_is_read_in_or_just_before_the_mention() -> None:
    """The language's words for sides (concepts.yaml: sides), in the mention or just before it."""
    sides = cues_of(default_pipeline().resources.concepts).sides
    assert laterality(_span(_doc("L foot drop since Tuesday"), "foot drop"), sides) == "left"
    assert laterality(_span(_doc("both legs numb"), "legs numb"), sides) == "both"
    assert laterality(_span(_doc("left and right legs numb"), "legs numb"), sides) == "both"
    assert laterality(_span(_doc("my legs are numb"), "legs are numb"), sides) is None


def test_a_negation_just_before_is_one_with_no_punctuation_between() -> None:
    negators = frozenset({"no", "not", "n't"})
    doc = _doc("I wouldn't say my bladder is normal")
    assert negated_just_before(_span(doc, "bladder is normal"), negators)
    doc = _doc("no numb bum, wee and poo normal")
    assert not negated_just_before(_span(doc, "wee and poo normal"), negators)
