"""Stage 2 of reading a text: the mentions of findings spaCy found, placed in the whole text, and
what each mention's own words say (a side, a negation just before it, misspelt words).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from spacy.tokens import Span

from backtriage.knowledge.loader import KnowledgeBase
from backtriage.text.pipeline import TextPipeline
from backtriage.text.resources import ABSENT_SUFFIX

__all__ = ["FoundMention", "corrections", "find_mentions", "laterality", "negated_just_before"]


@dataclass(frozen=True)
class FoundMention:
    """One mention of a finding, with character offsets into the whole text."""

    span: Span
    finding: str
    denies: bool  # a phrase that says the finding is absent ("bladder and bowels normal")
    start: int
    end: int

    @property
    def concepts(self) -> list[str]:
        """The concepts and their words that made the mention; empty for a pattern's phrase."""
        return list(self.span._.concepts or ())


def find_mentions(pieces: Iterable[tuple[int, Span]], kb: KnowledgeBase) -> list[FoundMention]:
    """Mentions from (offset of the piece, span) pairs: each once, and only of findings the
    knowledge base knows."""
    found: dict[tuple[str, int, int], FoundMention] = {}
    for offset, span in pieces:
        label = span.label_
        finding = label.removesuffix(ABSENT_SUFFIX)
        key = (label, offset + span.start_char, offset + span.end_char)
        if key not in found and finding in kb.findings:
            found[key] = FoundMention(span, finding, label.endswith(ABSENT_SUFFIX), key[1], key[2])
    return list(found.values())


def laterality(span: Span, side_of: Mapping[str, str]) -> str | None:
    """Side named in the mention or just before it ("L foot drop", "both legs numb"); `side_of`
    maps the language's words for sides to "left", "right" or "both"."""
    window = span.doc[_back_within_sentence(span, 3) : span.end]
    sides = {side_of[t.lower_] for t in window if t.lower_ in side_of}
    if "both" in sides or sides == {"left", "right"}:
        return "both"
    return sides.pop() if sides else None


def negated_just_before(span: Span, negators: frozenset[str]) -> bool:
    """A negation within four words before the mention, with no punctuation between ("I
    wouldn't say my bladder is normal"); a list's "no" before a comma is not one ("no numb bum,
    wee and poo normal")."""
    for token in reversed(span.doc[_back_within_sentence(span, 4) : span.start]):
        if token.is_punct:
            return False
        if token.lower_ in negators or token.norm_ in negators:
            return True
    return False


def corrections(span: Span, pipe: TextPipeline) -> list[str]:
    """The misspelt words of a mention and the words they were read as."""
    fix = pipe.concepts.normaliser.correction
    return [f"{t.text} -> {c}" for t in span if (c := fix(t.lower_)) is not None]


def _back_within_sentence(span: Span, words: int) -> int:
    """The token `words` before the mention, or its sentence's first token if nearer. (Asking
    spaCy for ``span.sent`` walks the whole sentence, which is quadratic over a long text.)"""
    doc, lowest = span.doc, max(0, span.start - words)
    for i in range(span.start, lowest, -1):
        if doc[i].is_sent_start:
            return i
    return lowest
