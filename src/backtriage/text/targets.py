"""Find lexicon mentions: regular expressions over the lower-cased text, each tried only where
it could match.

Patterns are written in lower case (the loader checks) and matched against the lower-cased text.

medspaCy's TargetMatcher runs each regular-expression rule over the text as well, but it rebuilds
the text for every rule and matches case-insensitively; with a few hundred rules that was most of
the time spent on a note. Here the text is lower-cased once, and each rule runs only over the
sentences holding the strings it cannot match without (patterns.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.tokens import Doc, Span

from backtriage.text.concepts import CorrectedText, lower_keeping_offsets
from backtriage.text.patterns import PatternSet

__all__ = ["READ_FROM", "TargetRules", "longest_per_label"]

#: `doc.user_data` key: (where the doc's own text starts, the text before it in the whole text).
READ_FROM = "backtriage_read_from"


class TargetRules:
    """Compiled lexicon: label -> patterns, each filed under the strings it needs."""

    def __init__(
        self, targets: dict[str, list[str]], negators: Iterable[str] = (), language: str = "en"
    ) -> None:
        words = "|".join(re.escape(w) for w in sorted(negators, key=len, reverse=True))
        self._negation = re.compile(rf"\b(?:{words})\b\s*") if words else None
        labelled = [(label, pattern) for label, patterns in targets.items() for pattern in patterns]
        self.patterns = PatternSet([pattern for _, pattern in labelled], language)
        self.labels = tuple(label for label, _ in labelled)
        #: The most characters any pattern looks back before where its match starts.
        self.lookbehind = self.patterns.lookbehind

    def find(self, doc: Doc, corrected: CorrectedText | None = None) -> list[Span]:
        """Mentions in `doc`; with `corrected`, the patterns read the corrected text and each
        mention maps back to the words as written. A doc read as a window of a longer text
        (prepass.py) says in `doc.user_data[READ_FROM]` where its own text starts and what came
        before it there, so a pattern looking back sees what it would in the whole text."""
        body = corrected.text if corrected else lower_keeping_offsets(doc.text)
        own, before = doc.user_data.get(READ_FROM, (0, ""))
        start = corrected.forward[own] if corrected else own
        text, shift = before + body[start:], len(before) - start
        # Mentions never cross a sentence, so each rule only scans the sentences holding what it
        # needs (sentence breaks are set by the step before this one).
        sentences = (
            [(s.start_char, s.end_char) for s in doc.sents]
            if doc.has_annotation("SENT_START")
            else [(0, len(doc.text))]
        )
        if corrected:
            sentences = [(corrected.forward[a], corrected.forward[b]) for a, b in sentences]
        sentences = [(a + shift, b + shift) for a, b in sentences if a >= start]
        spans: list[Span] = []
        seen: set[tuple[str, int, int]] = set()
        for index, regions in self.patterns.regions(text, sentences):
            regex, label = self.patterns.regex(index), self.labels[index]
            for region_start, region_end in regions:
                for m in regex.finditer(text, region_start, region_end):
                    if m.start() == m.end():
                        continue
                    a, b = self._after_negation(regex, text, m.start(), m.end())
                    a, b = a - shift, b - shift
                    a, b = corrected.original_span(a, b) if corrected else (a, b)
                    span = doc.char_span(a, b, label=label, alignment_mode="expand")
                    if span is None or not len(span):
                        continue
                    key = (label, span.start, span.end)
                    if key not in seen:
                        seen.add(key)
                        spans.append(span)
        return longest_per_label(spans)

    def _after_negation(self, regex: re.Pattern[str], text: str, start: int, end: int) -> tuple[int, int]:
        """A match with a negation inside it ("tingly down my leg and no numbness between the
        legs") starts again at the negation, or just after it, when the pattern still matches
        from there: the negation then stands before the mention, where ConText reads it, and is
        not swallowed into a mention that says the opposite."""
        if self._negation is None:
            return start, end
        for cue in reversed(list(self._negation.finditer(text, start + 1, end))):
            for at in (cue.start(), cue.end()):
                if at < end and regex.fullmatch(text, at, end):
                    return at, end
        return start, end


def longest_per_label(spans: list[Span]) -> list[Span]:
    """Drop a mention that overlaps an earlier-starting (or longer) mention of the same finding:
    it adds nothing, and every extra target costs ConText time."""
    spans.sort(key=lambda s: (s.label, s.start, -s.end))
    kept: list[Span] = []
    for span in spans:
        last = kept[-1] if kept else None
        if last is not None and last.label == span.label and span.start < last.end:
            continue
        kept.append(span)
    return kept
