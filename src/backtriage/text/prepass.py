"""Read only what can matter: a fast pass over the raw text picks the sentences that can hold a
finding, so spaCy, ConText and the concept reader read those (with the context their rules
need) and skip the rest. Most sentences of a real note name nothing a finding could come from.

The pass must change nothing, so every choice in it errs towards reading more:

    segments   the text is cut only where the sentence splitter is sure to start a sentence
               (a blank line; a new line it would open; a full stop, "!" or ";" mid-line with
               enough of the line on either side), so a segment is whole sentences and reads
               the same alone as in its piece
    triggers   a segment is read when one of the findings' compositions has all its concepts
               among the segment's words (each word tokenised and normalised by the pipeline's
               own tokenizer and normaliser), when one of the lexicon's patterns finds the words it
               cannot match without, when a word in it would be spelling-corrected, or when it
               may hold a section heading
    context    a segment beside a read one is read too when a word of it within a few words of
               the read one could be a concept or a negation (the reader's rules look a few words
               past a sentence: a "no" just before a denial, a splint just before "foot drop");
               a pattern's look-behind is given the characters before a window; a heading with
               a limited reach keeps what it reaches
    windows    neighbouring read segments are read as one text; the section a window starts in
               is given by reading its heading first (understand.py)

`tests/text/test_prepass.py` proves the findings identical with and without the pass on every
test case and the real-note sample; `benchmarks/bench_screen.py --corpus` on a whole corpus.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from spacy.tokens import Doc

from backtriage.text.concepts import ConceptReader, lower_keeping_offsets
from backtriage.text.patterns import without_lookahead, zipf
from backtriage.text.targets import TargetRules

__all__ = ["PrePass", "Section", "Window"]

#: A cut mid-line needs this many words before it on its line (a list item's heading is looked for
#: in the first four tokens of a line) and this many characters after it (a line this long is no
#: "heading: content" line, which the splitter treats apart).
_WORDS_BEFORE_MIDLINE_CUT = 5
_CHARS_AFTER_MIDLINE_CUT = 80

#: Chunks remembered (a long-running process forgets them all past this many: about 1 KB each).
_MAX_CHUNKS = 50_000

#: Skipped text shorter than this between two windows is read with them: a text read costs
#: about as much as a hundred characters (measured on the real-note sample).
MERGE_GAP = 100

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_STOP = re.compile(r"(?<!\S)(\S*[.!;]) (?=\S)")
_NEW_LINE = re.compile(r"(?<=\S)([^\S\n]*)\n([^\S\n]*)(?=\S)")
_BULLETS = frozenset({"-", "*", "\u2022", "\u00b7"})


@dataclass(frozen=True)
class Window:
    """Characters [start, end) of a piece, to be read as one text."""

    start: int
    end: int


@dataclass(frozen=True)
class Section:
    """A section heading found while reading, as the Sectionizer matched it."""

    title: str
    reach: int | None  # the rule's max_scope in tokens; None runs to the next heading


@dataclass(frozen=True)
class _Chunk:
    """What one whitespace-delimited chunk of text is, as the pipeline would read it."""

    lowers: frozenset[str]
    norms: frozenset[str]
    corrected: bool
    tokens: tuple[str, ...]  # lower-cased, in order
    edge: tuple[str, str, str]  # the first, second and last tokens as written
    heading: bool  # a word a section heading is filed under
    anchor: bool  # something here may start a finding: without one, a segment holds none
    concepts: frozenset[str]  # concepts with a one-word phrase here
    phrases: tuple[tuple[str, frozenset[str], bool], ...]  # (concept, words, by norm) to check


class PrePass:
    """Built once per pipeline from its tokenizer, concept reader, lexicon and section rules."""

    def __init__(
        self,
        tokenizer: Callable[[str], Doc],
        concepts: ConceptReader,
        targets: TargetRules,
        headings: Iterable[tuple[Sequence[str], int | None]],
        headed_line: re.Pattern[str],
    ) -> None:
        self._tokenizer = tokenizer
        self._headed_line = headed_line
        self._norm = concepts.normaliser.norm
        self._correction = concepts.normaliser.correction
        phrases = concepts.phrase_words()
        frequency = _WordFrequency.of(concepts.language)
        frequency.remember(
            w for by_norm, by_lower in phrases.values() for words in (*by_norm, *by_lower) for w in words
        )
        headings = list(headings)
        frequency.remember(w for words, _ in headings for w in words)
        self._by_norm, self._by_lower = _phrase_index(phrases, frequency.rarest)
        self._seen_past_a_sentence = concepts.words_seen_past_a_sentence()
        self._negators = concepts.negator_words()
        self._edge_words = concepts.reach_past_sentence()
        self._sequences = [(name, frozenset(parts)) for name, parts in concepts.sequence_parts()]
        rarity = _concept_frequency(phrases, concepts.sequence_parts(), frequency.zipf)
        self._compositions = _index_by_one(
            concepts.composition_needs(), lambda words: min(sorted(words), key=lambda w: rarity.get(w, 0.0))
        )
        self._anchor_concepts = _anchor_concepts(self._compositions, concepts.sequence_parts())
        self._headings = _index_by_one([frozenset(words) for words, _ in headings], frequency.rarest)
        #: Each heading as its run of tokens, as the Sectionizer matches it.
        self._heading_runs = [_run(words) for words, _ in headings if words]
        self._reaches = [(frozenset(words), reach) for words, reach in headings if reach]
        self._patterns = targets.patterns
        self._searches: dict[int, Callable[[str, int, int], re.Match[str] | None]] = {}
        self._rule_keys = frozenset(targets.patterns.by_string)
        #: Characters before a window a pattern may look back at (targets.READ_FROM).
        self.lookbehind = targets.lookbehind
        self._chunks: dict[str, _Chunk] = {}
        self._shared: dict[frozenset[str], frozenset[str]] = {}

    # ---- segments ---------------------------------------------------------------------------

    def segments(self, text: str) -> list[int]:
        """Offsets where a segment starts (0 first): only where the pipeline's sentence splitter
        is sure to start a sentence, whatever comes before or after."""
        cuts = {m.end() for m in _BLANK_LINE.finditer(text) if m.end() < len(text)}
        cuts.update(m.end() for m in _STOP.finditer(text) if self._stop_cut(text, m))
        cuts.update(m.end() for m in _NEW_LINE.finditer(text) if self._line_cut(text, m))
        cuts.discard(0)
        return [0, *sorted(cuts)]

    def _stop_cut(self, text: str, match: re.Match[str]) -> bool:
        """A full stop, "!" or ";" the tokenizer splits off, mid-line with enough of the line on
        both sides that no line-start rule can tell the two halves apart."""
        if self.chunk(match.group(1)).edge[2] not in (".", "!", ";"):
            return False
        cut = match.end()
        line_start = text.rfind("\n", 0, cut) + 1
        if len(text[max(line_start, cut - 200) : cut].split()) < _WORDS_BEFORE_MIDLINE_CUT:
            return False
        line_end = text.find("\n", cut)
        return line_end < 0 or line_end - cut > _CHARS_AFTER_MIDLINE_CUT

    def _line_cut(self, text: str, match: re.Match[str]) -> bool:
        """A new line the splitter opens a sentence at: after a "heading: content" line, or
        before a capitalised word or a list item (pipeline._split_sentences)."""
        gap_start = match.start() + (1 if match.group(1).startswith(" ") else 0)
        line_start = text.rfind("\n", 0, gap_start) + 1
        if self._headed_line.match(text, line_start, gap_start):
            return True
        following = text[match.end() :].split(maxsplit=1)
        if not following:
            return False
        first, second, _ = self.chunk(following[0]).edge
        if (first.istitle() and first.isalpha()) or first in _BULLETS:
            return True
        return first.isdigit() and second in (")", ".")

    # ---- what a chunk and a segment can hold ------------------------------------------------

    def chunk(self, chunk: str) -> _Chunk:
        """What one whitespace-delimited chunk is, as the pipeline would tokenise and normalise
        it (`learn` reads new chunks in bulk first; this reads a stray one alone)."""
        known = self._chunks.get(chunk)
        if known is None:
            self.learn([chunk])
            known = self._chunks[chunk]
        return known

    def learn(self, chunks: Iterable[str]) -> None:
        """Tokenise the chunks not yet known in one call: spaCy's tokenizer reads each
        whitespace-delimited chunk on its own, so one text of them all gives each its tokens,
        without the cost of a call per chunk."""
        new = [c for c in dict.fromkeys(chunks) if c not in self._chunks]
        if not new:
            return
        if len(self._chunks) + len(new) > _MAX_CHUNKS:
            self._chunks.clear()
            self._shared.clear()
        tokens: list[list[str]] = [[] for _ in new]
        ends = list(itertools.accumulate(len(c) + 1 for c in new))
        for token in self._tokenizer(" ".join(new)):
            tokens[bisect.bisect_right(ends, token.idx)].append(token.text)
        share = self._share
        for chunk, texts in zip(new, tokens, strict=True):
            lowered = [t.lower() for t in texts]
            lowers = share(frozenset(lowered))
            corrected = any(self._correction(w) is not None for w in lowers)
            norms = share(frozenset(self._norm(w) for w in lowers))
            singles, phrases = self._phrases_in(norms, lowers)
            singles = share(singles)
            heading = not lowers.isdisjoint(self._headings)
            starts = singles.union(c for c, _, _ in phrases)
            anchor = corrected or heading or not starts.isdisjoint(self._anchor_concepts)
            edge = (texts[0], texts[1] if len(texts) > 1 else "", texts[-1]) if texts else ("", "", "")
            self._chunks[chunk] = _Chunk(
                lowers, norms, corrected, tuple(lowered), edge, heading, anchor, singles, phrases
            )

    def _share(self, words: frozenset[str]) -> frozenset[str]:
        """One object for every equal set: most chunks are one word, and words repeat."""
        return self._shared.setdefault(words, words)

    def _phrases_in(
        self, norms: frozenset[str], lowers: frozenset[str]
    ) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str], bool], ...]]:
        """The concepts a chunk's words make alone, and the longer phrases it starts."""
        singles: set[str] = set()
        longer: list[tuple[str, frozenset[str], bool]] = []
        for words_here, index, by_norm in ((norms, self._by_norm, True), (lowers, self._by_lower, False)):
            for w in words_here:
                for concept, words in index.get(w, ()):
                    if words <= words_here:
                        singles.add(concept)
                    else:
                        longer.append((concept, words, by_norm))
        return frozenset(singles), tuple(longer)

    def _may_hold_a_finding(
        self, words: list[str], lowered: str, segment: tuple[int, int], found: set[str]
    ) -> bool:
        """Whether the segment (its `words`, and characters `segment` of `lowered`) may hold a
        finding (or a heading, which governs others). A pattern is tried, without its
        look-aheads, only where the strings it needs are all present; it looks back into the text
        before the segment, as it would."""
        chunks = [self.chunk(c) for c in words]
        if any(c.corrected for c in chunks):
            return True
        if found.isdisjoint(self._rule_keys) and not any(c.anchor for c in chunks):
            # nothing here starts a composition, a heading or a filed pattern
            return any(self._may_match(r, found, lowered, segment) for r in self._patterns.anywhere)
        if self._may_compose(chunks):
            return True
        if any(c.heading for c in chunks):
            lowers: set[str] = set().union(*(c.lowers for c in chunks))
            if _any_indexed(self._headings, lowers, lowers) and self._holds_a_heading(chunks):
                return True
        return any(self._may_match(r, found, lowered, segment) for r in self._patterns.candidates(found))

    def _may_match(self, rule: int, found: set[str], lowered: str, segment: tuple[int, int]) -> bool:
        """The rule's requirements hold and, without its look-aheads, it matches in the segment."""
        return self._patterns.may_match(rule, found) and self._search(rule)(lowered, *segment) is not None

    def _search(self, rule: int) -> Callable[[str, int, int], re.Match[str] | None]:
        """The rule's pattern without its look-aheads, compiled when first needed."""
        search = self._searches.get(rule)
        if search is None:
            pattern = without_lookahead(self._patterns.patterns[rule])
            search = self._searches[rule] = re.compile(pattern).search
        return search

    def _holds_a_heading(self, chunks: list[_Chunk]) -> bool:
        """A heading's tokens, in a run, among the segment's (the Sectionizer matches a run of
        tokens; line breaks between them are left out here, which can only find more)."""
        tokens = _run(t for c in chunks for t in c.tokens if not t.isspace())
        return any(run in tokens for run in self._heading_runs)

    def _may_compose(self, chunks: list[_Chunk]) -> bool:
        """One of the findings' compositions has every one of its concepts possible here."""
        possible = self._possible(chunks)
        return _any_indexed(self._compositions, possible, possible)

    def _possible(self, chunks: list[_Chunk]) -> set[str]:
        """The concepts one of whose phrases has all its words here."""
        possible: set[str] = set().union(*(c.concepts for c in chunks))
        longer = [p for c in chunks for p in c.phrases]
        if longer:
            norms: set[str] = set().union(*(c.norms for c in chunks))
            lowers: set[str] = set().union(*(c.lowers for c in chunks))
            possible.update(c for c, words, by_norm in longer if words <= (norms if by_norm else lowers))
        for concept, parts in self._sequences:
            if parts <= possible:
                possible.add(concept)
        return possible

    # ---- windows ----------------------------------------------------------------------------

    def windows(self, text: str) -> list[Window]:
        """The windows of `text` to read; one window of the whole text when nothing can be
        skipped."""
        self.learn(text.split())
        starts = self.segments(text)
        ends = [*starts[1:], len(text)]
        chunks = [text[a:b].split() for a, b in zip(starts, ends, strict=True)]
        lowered = lower_keeping_offsets(text)
        found = self._patterns.found(lowered, list(zip(starts, ends, strict=True)))
        read = [
            self._may_hold_a_finding(chunks[i], lowered, (a, b), found[i])
            for i, (a, b) in enumerate(zip(starts, ends, strict=True))
        ]
        if all(read):
            return [Window(0, len(text))]
        keep = self._with_context(chunks, read)
        return _merged(starts, ends, keep)

    def _with_context(self, chunks: list[list[str]], read: list[bool]) -> list[bool]:
        """Read segments, and beside each the segments the reader's rules may look into; after
        a possible heading with a limited reach, everything it may reach."""
        keep = list(read)
        for i, is_read in enumerate(read):
            if not is_read:
                continue
            for step in (-1, 1):
                self._keep_edge(chunks, keep, i, step)
            reach = self._reach(chunks[i])
            j, seen = i + 1, 0
            while reach and j < len(read) and seen <= reach:
                keep[j] = True
                seen += len(chunks[j])
                j += 1
        return keep

    def _keep_edge(self, chunks: list[list[str]], keep: list[bool], i: int, step: int) -> None:
        """Keep the segments beside segment i when a rule reading segment i could look into
        them: a negation in the two words before it, or, within the reader's reach, a concept
        that rules out a mention beside it."""
        j, edge = i + step, list[str]()
        while 0 <= j < len(chunks) and len(edge) < self._edge_words:
            edge.extend(reversed(chunks[j]) if step < 0 else chunks[j])
            j += step
        if all(keep[k] for k in range(i + step, j, step)):
            return  # already read
        edge = edge[: self._edge_words]
        near = chunks[i][-self._edge_words :] if step > 0 else chunks[i][: self._edge_words]
        if (step < 0 and any(not self.chunk(c).norms.isdisjoint(self._negators) for c in edge[:2])) or (
            self._may_rule_out(edge + near)
        ):
            for k in range(i + step, j, step):
                keep[k] = True

    def _may_rule_out(self, chunks: list[str]) -> bool:
        read = [self.chunk(c) for c in chunks]
        return any(c.corrected for c in read) or not self._possible(read).isdisjoint(
            self._seen_past_a_sentence
        )

    def _reach(self, chunks: list[str]) -> int:
        """The longest reach (in words) of a limited heading that may be in the segment."""
        lowers: set[str] = set()
        for chunk in map(self.chunk, chunks):
            lowers |= chunk.lowers
        return max((reach or 0 for words, reach in self._reaches if words <= lowers), default=0)


def _phrase_index(
    phrases: dict[str, tuple[list[frozenset[str]], list[frozenset[str]]]],
    rarest: Callable[[frozenset[str]], str],
) -> tuple[dict[str, list[tuple[str, frozenset[str]]]], dict[str, list[tuple[str, frozenset[str]]]]]:
    """Each concept's phrases, filed under one of their words (all are needed, so any will do)."""
    by_norm: dict[str, list[tuple[str, frozenset[str]]]] = {}
    by_lower: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for concept, (norm_phrases, lower_phrases) in phrases.items():
        for index, group in ((by_norm, norm_phrases), (by_lower, lower_phrases)):
            for words in group:
                if words:
                    index.setdefault(rarest(words), []).append((concept, words))
    return by_norm, by_lower


def _index_by_one(
    sets: Iterable[frozenset[str]], key: Callable[[frozenset[str]], str]
) -> dict[str, list[frozenset[str]]]:
    """Each set filed under one member, its `key` (the rarest)."""
    index: dict[str, list[frozenset[str]]] = {}
    for words in sets:
        if words:
            index.setdefault(key(words), []).append(words)
    return index


def _concept_frequency(
    phrases: dict[str, tuple[list[frozenset[str]], list[frozenset[str]]]],
    sequences: list[tuple[str, tuple[str, ...]]],
    zipf: Callable[[str], float],
) -> dict[str, float]:
    """How often a concept may be met, on wordfreq's Zipf scale: a phrase as often as its rarest
    word, a concept as its most frequent phrase, a sequence as its rarest part."""
    frequency = {
        concept: max(
            (min(map(zipf, words)) for words in (*by_norm, *by_lower) if words),
            default=0.0,
        )
        for concept, (by_norm, by_lower) in phrases.items()
    }
    for name, parts in sequences:
        frequency[name] = min((frequency.get(p, 0.0) for p in parts), default=0.0)
    return frequency


def _anchor_concepts(
    compositions: dict[str, list[frozenset[str]]], sequences: list[tuple[str, tuple[str, ...]]]
) -> frozenset[str]:
    """The concepts a composition is filed under, a sequence replaced by its parts: a segment
    where none of them starts holds no composition."""
    parts = dict(sequences)
    anchors: set[str] = set()
    pending = list(compositions)
    while pending:
        concept = pending.pop()
        if concept in parts:
            pending.extend(p for p in parts[concept] if p not in anchors)
        anchors.add(concept)
    return frozenset(anchors)


class _WordFrequency:
    """wordfreq's frequency of words in one language (Zipf scale), remembered once looked up."""

    _of: ClassVar[dict[str, _WordFrequency]] = {}

    def __init__(self, language: str) -> None:
        self.language = language
        self._known: dict[str, float] = {}

    @classmethod
    def of(cls, language: str) -> _WordFrequency:
        """One per language, for the life of the process."""
        return cls._of.setdefault(language, cls(language))

    def zipf(self, word: str) -> float:
        known = self._known.get(word)
        if known is None:
            known = self._known[word] = zipf(word, self.language)
        return known

    def rarest(self, words: Iterable[str]) -> str:
        """The word least often met in the language (a concept's name, not a word, is never met),
        so the fewest texts look further."""
        return min(sorted(words), key=lambda w: (self.zipf(w), -len(w)))

    def remember(self, words: Iterable[str]) -> None:
        """Load the frequencies of `words` from the disk cache (computed once: loading wordfreq's
        list takes a fifth of a second)."""
        from backtriage.cache import cached_json

        wanted = sorted(set(words))

        def compute() -> dict[str, float]:
            return {w: zipf(w, self.language) for w in wanted}

        known = cached_json("word-frequency", "\n".join(wanted), compute, language=self.language)
        if isinstance(known, dict):
            self._known.update((str(k), float(v)) for k, v in known.items())


def _any_indexed(index: dict[str, list[frozenset[str]]], keys: set[str], present: set[str]) -> bool:
    """Some indexed set, filed under one of `keys`, lies wholly in `present`."""
    return any(words <= present for k in index.keys() & keys for words in index[k])


_TOKEN_SEPARATOR = "\x1f"


def _run(tokens: Iterable[str]) -> str:
    """Tokens as one string a run of tokens can be looked for in."""
    return _TOKEN_SEPARATOR + _TOKEN_SEPARATOR.join(tokens) + _TOKEN_SEPARATOR


def _merged(starts: list[int], ends: list[int], keep: list[bool]) -> list[Window]:
    """Windows of neighbouring kept segments; a gap shorter than `MERGE_GAP` is read as well
    (reading it costs less than reading one more text)."""
    windows: list[Window] = []
    for a, b, kept in zip(starts, ends, keep, strict=True):
        if not kept:
            continue
        if windows and a - windows[-1].end < MERGE_GAP:
            windows[-1] = Window(windows[-1].start, b)
        else:
            windows.append(Window(a, b))
    return windows
