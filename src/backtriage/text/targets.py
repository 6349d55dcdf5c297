"""Find lexicon mentions: regular expressions over the lower-cased text, with a prefilter.

Patterns are written in lower case (the loader checks) and matched against the lower-cased text.

medspaCy's TargetMatcher runs each regular-expression rule over the text as well, but it rebuilds
the text for every rule and matches case-insensitively; with a few hundred rules that was most of
the time spent on a note. Here the text is lower-cased once, and each rule first checks, with a
plain substring test, for a word the rule cannot match without. The words are worked out from
the compiled pattern itself, so they can never disagree with it.
"""

from __future__ import annotations

import re

# The parser behind `re` (Python 3.11+); typeshed has no stubs for these private modules.
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterable
from dataclasses import dataclass
from re._constants import (  # type: ignore[import-not-found]
    BRANCH,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    SUBPATTERN,
)

from spacy.tokens import Doc, Span

from backtriage.text.concepts import CorrectedText, lower_keeping_offsets

__all__ = ["TargetRules", "longest_per_label", "required_words"]

_MIN_WORD = 3


def required_words(pattern: str) -> frozenset[str] | None:
    """Strings of which at least one occurs in every match of ``pattern``, or None if unknown."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    return _sequence(list(parsed))


def _sequence(items: list[tuple[object, object]]) -> frozenset[str] | None:
    """Best requirement of a sequence: a run of literals, or the most selective mandatory item."""
    best: frozenset[str] | None = None
    run = ""

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate and (best is None or min(map(len, candidate)) > min(map(len, best))):
            best = candidate

    for op, arg in items:
        if op is LITERAL:
            run += chr(arg)  # type: ignore[arg-type]
            continue
        if len(run) >= _MIN_WORD:
            consider(frozenset([run]))
        run = ""
        if op is SUBPATTERN:
            consider(_sequence(list(arg[-1])))  # type: ignore[index]
        elif op is BRANCH:
            consider(_branch(arg[1]))  # type: ignore[index]
        elif op in (MAX_REPEAT, MIN_REPEAT) and arg[0] >= 1:  # type: ignore[index]
            consider(_sequence(list(arg[2])))  # type: ignore[index]
    if len(run) >= _MIN_WORD:
        consider(frozenset([run]))
    return best


def _branch(alternatives: list[object]) -> frozenset[str] | None:
    words: set[str] = set()
    for alternative in alternatives:
        need = _sequence(list(alternative))  # type: ignore[call-overload]
        if not need:
            return None
        words |= need
    return frozenset(words)


@dataclass(frozen=True)
class _Rule:
    label: str
    regex: re.Pattern[str]
    words: frozenset[str] | None


class TargetRules:
    """Compiled lexicon: label -> patterns, each with its prefilter words."""

    def __init__(self, targets: dict[str, list[str]], negators: Iterable[str] = ()) -> None:
        words = "|".join(re.escape(w) for w in sorted(negators, key=len, reverse=True))
        self._negation = re.compile(rf"\b(?:{words})\b\s*") if words else None
        rules = []
        for label, patterns in targets.items():
            for pattern in patterns:
                rules.append(_Rule(label, re.compile(pattern), required_words(pattern)))
        self.rules = tuple(rules)
        self._words = tuple(sorted({w for r in rules if r.words for w in r.words}))

    def find(self, doc: Doc, corrected: CorrectedText | None = None) -> list[Span]:
        """Mentions in `doc`; with `corrected`, the patterns read the corrected text and each
        mention maps back to the words as written."""
        text = corrected.text if corrected else lower_keeping_offsets(doc.text)
        present = {w for w in self._words if w in text}
        # Mentions never cross a sentence, so each rule only scans the sentences holding one of
        # its words (sentence breaks are set by the step before this one).
        sentences = (
            [(s.start_char, s.end_char) for s in doc.sents]
            if doc.has_annotation("SENT_START")
            else [(0, len(doc.text))]
        )
        if corrected:
            sentences = [(corrected.forward[a], corrected.forward[b]) for a, b in sentences]
        words_in = [{w for w in present if w in text[a:b]} for a, b in sentences]
        spans: list[Span] = []
        seen: set[tuple[str, int, int]] = set()
        for rule in self.rules:
            if rule.words is None:
                regions = sentences
            elif rule.words.isdisjoint(present):
                continue
            else:
                regions = [
                    r for r, w in zip(sentences, words_in, strict=True) if not rule.words.isdisjoint(w)
                ]
            for start, end in regions:
                for m in rule.regex.finditer(text, start, end):
                    if m.start() == m.end():
                        continue
                    a, b = self._after_negation(rule.regex, text, m.start(), m.end())
                    a, b = corrected.original_span(a, b) if corrected else (a, b)
                    span = doc.char_span(a, b, label=rule.label, alignment_mode="expand")
                    if span is None or not len(span):
                        continue
                    key = (rule.label, span.start, span.end)
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
