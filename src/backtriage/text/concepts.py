"""Read concepts, not phrases: words normalised, matched to concepts, combined into findings.

    normalise   each token's NORM becomes its lower-cased, contraction-opened lemma ("legs" -> leg,
                "can't" -> can not), corrected to the one vocabulary word within a typing error when
                it is not a word of the language ("numbess" -> numbness)
    concepts    spaCy PhraseMatchers over NORM (and LOWER, for plurals that matter) tie every
                listed phrase to its concept; `sequences` chain concepts in order with a few words
                between ("can't really feel" is UNABLE + FEEL)
    compose     a finding fires when all the concepts of one of its compositions occur within one
                clause, in any order; each mention records the concepts and words that made it

The vocabulary is data (`data/<language>/concepts.yaml`); see that file for the rules in full.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from spacy.language import Language
from spacy.lookups import Table, load_lookups
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token

from backtriage.text.patterns import has_word_list
from backtriage.text.resources import ABSENT_SUFFIX, ConceptVocabulary

__all__ = ["ConceptHit", "ConceptReader", "CorrectedText", "Normaliser", "clause_of"]

#: Shortest word that spelling correction touches; shorter words are too easily another word.
_MIN_CORRECTABLE = 5
#: A word this frequent in the language's word list (Zipf scale: 1 is once in 100 million words,
#: the least frequent words the list holds) is a real word and is never corrected.
_REAL_WORD_ZIPF = 1.0
#: Shortest word read as having a clipped ending ("walkin").
_MIN_CLIPPED = 4


@lru_cache(maxsize=4)
def _lemma_table(spacy_language: str) -> Table:
    """spaCy's lemma lookup table of the language (from spacy-lookups-data; nothing is
    downloaded); an empty table for a language it has none of ("xx")."""
    try:
        return load_lookups(spacy_language, ["lemma_lookup"]).get_table("lemma_lookup")
    except ValueError:
        return Table("lemma_lookup")


@lru_cache(maxsize=4)
def _word_list(language: str) -> Callable[[str], bool]:
    """Whether a word is in a large frequency list of the language's words (wordfreq's, built
    from subtitles, books, news and the web; shipped with the package, nothing is downloaded).
    Such a word is a word, not a typing error: "supine" is not "spine", "peroneal" not
    "perineal", "important" not "impotent". Misspellings of symptom words are not in it. A
    language wordfreq has no large list of has no such words."""
    from wordfreq import zipf_frequency

    if not has_word_list(language, "large"):
        return lambda word: False
    return lambda word: zipf_frequency(word, language, wordlist="large") >= _REAL_WORD_ZIPF


@lru_cache(maxsize=4)
def _base_forms(spacy_language: str) -> frozenset[str]:
    """Base forms of the language's words: the lemmas the lookup table maps to (about 26,000 in
    English)."""
    return frozenset(str(v) for v in _lemma_table(spacy_language).values())


class Normaliser:
    """Lower-case, open contractions, lemmatise and correct one word at a time (cached)."""

    def __init__(
        self,
        spec: ConceptVocabulary,
        vocabulary: Iterable[str] = (),
        meaning: Mapping[str, str] | None = None,
        language: str = "en",
        spacy_language: str | None = None,
    ) -> None:
        """`vocabulary`: the words a misspelling may be corrected to; `meaning`: word -> the
        concept it belongs to; `language` (ISO) chooses the word list, `spacy_language` (its
        spaCy code, by default the same) the lemma table."""
        self.language = language
        self.vocabulary = frozenset(vocabulary)
        self._respell = dict(spec.respell)
        self._opened = dict(spec.contractions)
        self._clipped = dict(spec.clipped_endings)
        self._lemma_overrides = dict(spec.lemmas)
        self._meaning = dict(meaning or {})
        self._choices = sorted(w for w in self.vocabulary if len(w) >= _MIN_CORRECTABLE - 1)
        self._lemmas = _lemma_table(spacy_language or language)
        # Words of the language are never "corrected": the lookup table's inflected forms and
        # their lemmas, plus the words the vocabulary file lists.
        self._known = frozenset(spec.known_words) | _base_forms(spacy_language or language)
        self.norm = lru_cache(maxsize=50_000)(self._norm)
        self.correction = lru_cache(maxsize=50_000)(self._correction)

    def lemma(self, lower: str) -> str:
        opened = self._opened.get(lower, lower)
        if opened in self._lemma_overrides:
            return self._lemma_overrides[opened]
        return str(self._lemmas.get(opened, opened))

    def _norm(self, lower: str) -> str:
        lower = lower.lstrip("~\u2248") or lower  # "~T8": about T8
        corrected = self.correction(lower)
        return self.lemma(corrected or lower)

    def _correction(self, lower: str) -> str | None:
        """The word meant, when `lower` is a misspelling of a vocabulary word; else None."""
        if lower in self._respell:
            return self._respell[lower]
        if lower in self._known or lower in self._lemmas:
            return None  # a word of the language ("thin", "aspirin") is what it says
        unclipped = self._unclipped(lower)
        if unclipped is not None:
            return unclipped
        if not self._correctable(lower) or self.lemma(lower) in self.vocabulary:
            return None
        if _word_list(self.language)(lower):
            return None  # a real word, though not one of ours: "focal" is not "local"
        near = process.extract(
            lower,
            self._choices,
            scorer=Levenshtein.distance,
            limit=4,
            score_cutoff=1 if len(lower) < 9 else 2,
        )
        if not near:
            return None
        tied = sorted(str(w) for w, d, _ in near if d == near[0][1])
        if len({self._meaning.get(w, w) for w in tied}) > 1:
            return None  # two words of different meaning equally near: do not guess
        return tied[-1]

    def _unclipped(self, lower: str) -> str | None:
        """The word with its full ending, when `lower` has a clipped one and the full form is a
        known word: the dropped g of speech and texting ("walkin", "peein")."""
        for clipped, full in self._clipped.items():
            if len(lower) >= _MIN_CLIPPED and lower.endswith(clipped):
                whole = lower[: len(lower) - len(clipped)] + full
                if whole in self._lemmas or whole in self._known:
                    return whole
        return None

    def _correctable(self, lower: str) -> bool:
        return (
            len(lower) >= _MIN_CORRECTABLE
            and lower.isalpha()
            and lower not in self._known
            and lower not in self._lemmas
        )


def lower_keeping_offsets(text: str) -> str:
    """Lower-case without moving any offset (a few characters lower-case to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


@dataclass(frozen=True)
class CorrectedText:
    """Text with some words replaced, and the way back to the original character offsets."""

    text: str
    starts: list[int]  # corrected char -> original offset of its first character
    ends: list[int]  # corrected char -> original offset just past it
    forward: list[int]  # original offset -> corrected offset (one past the end included)

    @classmethod
    def build(cls, doc: Doc, corrections: Mapping[int, str]) -> CorrectedText:
        original = lower_keeping_offsets(doc.text)
        pieces: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        forward: list[int] = []
        pos = 0
        for i in sorted(corrections):
            token = doc[i]
            a, b = token.idx, token.idx + len(token.text)
            _keep(original, pos, a, pieces, starts, ends, forward)
            word = corrections[i]
            forward.extend([len(starts)] * (b - a))
            pieces.append(word)
            starts.extend([a] * len(word))
            ends.extend([b] * len(word))
            pos = b
        _keep(original, pos, len(original), pieces, starts, ends, forward)
        forward.append(len(starts))
        return cls("".join(pieces), starts, ends, forward)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def _keep(
    text: str, a: int, b: int, pieces: list[str], starts: list[int], ends: list[int], forward: list[int]
) -> None:
    forward.extend(range(len(starts), len(starts) + b - a))
    pieces.append(text[a:b])
    starts.extend(range(a, b))
    ends.extend(range(a + 1, b + 1))


_VIEW = "backtriage_concept_view"
#: How near (in words) a ruling-out concept must be to a mention to rule it out.
_BESIDE = 2


@dataclass(frozen=True)
class _View:
    """Per-doc arrays the composition step reads many times: normalised words, clause numbers."""

    norms: list[str]
    clause: list[int]


def clause_of(doc: Doc, token: int) -> int | None:
    """The clause number of a token, once the concept reader has read the doc (else None)."""
    view: _View | None = doc.user_data.get(_VIEW)
    return view.clause[token] if view is not None and token < len(view.clause) else None


@dataclass(frozen=True)
class ConceptHit:
    """One concept found in the text: tokens [start, end) of the doc."""

    concept: str
    start: int
    end: int


#: Combinations of hits tried per composition and sentence; more are left untried.
_MAX_COMBINATIONS = 500


@dataclass(frozen=True)
class _Combination:
    """One hit for each concept of a composition; together they span tokens [start, end)."""

    hits: tuple[ConceptHit, ...]
    start: int
    end: int

    @classmethod
    def of(cls, hits: tuple[ConceptHit, ...]) -> _Combination:
        return cls(hits, min(h.start for h in hits), max(h.end for h in hits))

    def others(self, start: int, end: int) -> Iterator[int]:
        """The tokens in [start, end) that no hit covers."""
        return (i for i in range(start, end) if not _in_hits(i, self.hits))


@dataclass
class _Composition:
    label: str
    required: tuple[str, ...]
    excluded: frozenset[str]
    window: int
    denies: bool
    beside: frozenset[str] = frozenset()
    one_phrase: bool = False
    needs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.needs = frozenset(self.required)


@dataclass
class ConceptReader:
    """Concept matching and composition, built once from the vocabulary. `language` is the ISO
    code of the vocabulary's language (by default the pipeline's spaCy code)."""

    vocabulary: ConceptVocabulary
    nlp: Language
    language: str = ""
    normaliser: Normaliser = field(init=False)

    def __post_init__(self) -> None:
        voc, spacy_language = self.vocabulary, self.nlp.lang or "en"
        self.language = self.language or spacy_language
        plain = Normaliser(voc, language=self.language, spacy_language=spacy_language)
        words, meaning = self._add_concepts(plain)
        words.update(w.lower() for w in voc.correct_to)
        self.normaliser = Normaliser(voc, words, meaning, self.language, spacy_language)
        self._sequences = [(name, seq.of, seq.gap) for name, c in voc.concepts.items() for seq in c.sequences]
        self._compositions = _compositions(voc)
        self._not_near = {f: frozenset(c) for f, c in voc.not_near.items()}
        self._links = frozenset(plain.lemma(w) for w in voc.denial_links)
        self._not_within = {f: frozenset(c) for f, c in voc.not_within.items()}
        self._not_in_clause = {f: [frozenset(g) for g in groups] for f, groups in voc.not_in_clause.items()}
        self._ruling = _ruling_concepts(voc)
        self._breaks = frozenset(voc.clause_breaks)
        self._negators = frozenset(voc.negators)
        self._determiners = frozenset(voc.determiner_negators)

    def _add_concepts(self, plain: Normaliser) -> tuple[set[str], dict[str, str]]:
        """Every concept's phrases into the matchers (normalised words, and exact lower-case
        forms); returns the vocabulary's words and the concept each word first belongs to."""
        voc = self.vocabulary
        self._norm_matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self._lower_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        words: set[str] = set()
        meaning: dict[str, str] = {}
        self._phrase_words: dict[str, tuple[list[frozenset[str]], list[frozenset[str]]]] = {}
        for name, concept in voc.concepts.items():
            docs = []
            for phrase in concept.words:
                doc = self.nlp.make_doc(phrase)
                norms = [plain.lemma(voc.respell.get(t.lower_, t.lower_)) for t in doc]
                words.update(w for n in norms for w in n.split())
                for w in norms:
                    meaning.setdefault(w, name)
                docs.append(self._norm_doc(doc, norms))
            exact = [self.nlp.make_doc(p) for p in concept.exact]
            if docs:
                self._norm_matcher.add(name, docs)
            if exact:
                self._lower_matcher.add(name, exact)
            self._phrase_words[name] = (
                [frozenset(t.norm_ for t in d) for d in docs],
                [frozenset(t.lower_ for t in d) for d in exact],
            )
        return words, meaning

    def phrase_words(self) -> dict[str, tuple[list[frozenset[str]], list[frozenset[str]]]]:
        """Per concept, the words each of its phrases needs: normalised words (matched on NORM)
        and lower-case words (its exact phrases): a concept cannot be found where none of its
        phrases has all its words."""
        return self._phrase_words

    def sequence_parts(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each sequence concept and the concepts it chains, in file order."""
        return [(name, tuple(parts)) for name, parts, _ in self._sequences]

    def reach_past_sentence(self) -> int:
        """How many words past its sentence a rule of the reader may look from a mention: a
        ruling-out concept or a negation beside it, or a sequence's gap before that."""
        return _BESIDE + max((gap + 1 for _, _, gap in self._sequences), default=0)

    def words_seen_past_a_sentence(self) -> frozenset[str]:
        """The concepts a rule may see in the words just past a mention's sentence: negators (a
        denial with one just before it is no denial) and the concepts that rule out a mention
        beside them (`not_near`), with the concepts a sequence of those is made of."""
        concepts = {c for group in self._not_near.values() for c in group}
        parts = dict((name, tuple(of)) for name, of, _ in self._sequences)
        pending = list(concepts)
        while pending:
            for part in parts.get(pending.pop(), ()):
                if part not in concepts:
                    concepts.add(part)
                    pending.append(part)
        return frozenset(concepts)

    def negator_words(self) -> frozenset[str]:
        return self._negators

    def composition_needs(self) -> list[frozenset[str]]:
        """The concepts each composition needs all of."""
        return [c.needs for c in self._compositions]

    def _norm_doc(self, doc: Doc, norms: Sequence[str]) -> Doc:
        """A pattern doc whose tokens carry normalised words (one token per word)."""
        words = [w for n in norms for w in n.split()]
        pattern = Doc(self.nlp.vocab, words=words)
        for token, word in zip(pattern, words, strict=True):
            token.norm_ = word
        return pattern

    def read_words(self, doc: Doc) -> tuple[_View, list[bool]]:
        """One pass over the words: set each token's NORM, number the clauses, and mark where a
        sequence cannot go on (punctuation, clause breaks). Clauses: sentences and clause breaks
        start a new one, and so does a negator after punctuation ("numb down below, no bladder
        trouble"); a break set off by commas on both sides is an aside, not a new clause ("He
        denies, however, any bladder trouble")."""
        norms: list[str] = []
        clause: list[int] = []
        stops: list[bool] = []
        n, previous_punct = 0, False
        breaks, negators, norm_of = self._breaks, self._negators, self.normaliser.norm
        for token in doc:
            lower = token.lower_
            norm = norm_of(lower)
            token.norm_ = norm
            punct, is_break = token.is_punct, lower in breaks
            if (
                token.is_sent_start
                or (is_break and not _aside(token))
                or (norm in negators and previous_punct)
            ):
                n += 1
            norms.append(norm)
            clause.append(n)
            stops.append(punct or is_break)
            previous_punct = punct
        return _View(norms, clause), stops

    def corrected_text(self, doc: Doc) -> CorrectedText | None:
        """The lower-cased text with misspelt words corrected, for the pattern lexicon; None when
        nothing needed correcting."""
        fixes = {t.i: c for t in doc if (c := self.normaliser.correction(t.lower_))}
        return CorrectedText.build(doc, fixes) if fixes else None

    def hits(self, doc: Doc) -> list[ConceptHit]:
        """Every concept in the doc, sequences included."""
        doc.user_data[_VIEW], stops = self.read_words(doc)
        found = {(doc.vocab.strings[m], s, e) for m, s, e in self._norm_matcher(doc)}
        found |= {(doc.vocab.strings[m], s, e) for m, s, e in self._lower_matcher(doc)}
        # sorted, so that ties between equally good combinations break the same way every run
        # a phrase inside a longer phrase of the same concept adds nothing, and would let a
        # combination leave out words that matter ("nearly didn't make it")
        hits = [ConceptHit(c, s, e) for c, s, e in _outermost(found)]
        by_concept: dict[str, list[ConceptHit]] = {}
        for h in hits:
            by_concept.setdefault(h.concept, []).append(h)
        for name, parts, gap in self._sequences:  # in file order: a sequence may use an earlier one
            chained = _chain(name, [by_concept.get(p, []) for p in parts], gap, doc, stops)
            hits.extend(chained)
            by_concept.setdefault(name, []).extend(chained)
        return hits

    def mentions(self, doc: Doc, hits: list[ConceptHit]) -> list[Span]:
        """Spans for every composition that fires, labelled with the finding id."""
        spans: list[Span] = []
        sentences = list(doc.sents)
        sentence_of = [0] * len(doc)
        for n, sent in enumerate(sentences):
            sentence_of[sent.start : sent.end] = [n] * (sent.end - sent.start)
        within: dict[int, list[ConceptHit]] = {}  # hits inside one sentence, in the order found
        for h in hits:
            if sentence_of[h.start] == sentence_of[h.end - 1]:
                within.setdefault(sentence_of[h.start], []).append(h)
        for n in sorted(within):
            inside = within[n]
            by_concept: dict[str, list[ConceptHit]] = {}
            for h in inside:
                by_concept.setdefault(h.concept, []).append(h)
            view: _View = doc.user_data[_VIEW]
            owned = _owned_negations(by_concept, view, self._negators)
            for comp in self._compositions:
                if not comp.needs <= by_concept.keys():
                    continue
                span = self._compose(doc, comp, by_concept, view, owned)
                if span is not None:
                    spans.append(span)
        return spans

    def _compose(
        self,
        doc: Doc,
        comp: _Composition,
        by_concept: dict[str, list[ConceptHit]],
        view: _View,
        owned: frozenset[int],
    ) -> Span | None:
        """The mention a composition makes in one sentence, if any: its best combination of
        hits, unless something next to it rules it out. `owned`: the sentence's words that belong
        to a concept phrase with its own negation."""
        best = self._best_combination(comp, [by_concept[c] for c in comp.required], view)
        if best is None or self._ruled_out(comp, best, by_concept, view):
            return None
        return self._mention(doc, comp, best, view, owned)

    def _best_combination(
        self, comp: _Composition, options: list[list[ConceptHit]], view: _View
    ) -> _Combination | None:
        """The tightest combination wins, but one whose words carry a negation ("didn't feel")
        goes first: left outside the mention, that negation would read as denying it."""
        best: tuple[tuple[int, int], _Combination] | None = None
        for hits in itertools.islice(itertools.product(*options), _MAX_COMBINATIONS):
            combo = _Combination.of(hits)
            if not _fits(comp, combo, view):
                continue
            absorbed = sum(view.norms[i] in self._negators for h in hits for i in range(h.start, h.end))
            rank = (-absorbed, combo.end - combo.start)
            if best is None or rank < best[0]:
                best = (rank, combo)
        return best[1] if best is not None else None

    def _ruled_out(
        self, comp: _Composition, combo: _Combination, by_concept: dict[str, list[ConceptHit]], view: _View
    ) -> bool:
        """A concept the composition excludes in the same clause, or one it may not stand beside;
        for a denial, words between its concepts that make it no denial."""
        if comp.excluded and self._near(comp.excluded, by_concept, view.clause, view.clause[combo.start]):
            return True
        if comp.denies and not self._plain_denial(combo, view):
            return True
        return bool(comp.beside) and any(self._beside(comp.beside, by_concept, h) for h in combo.hits)

    def _plain_denial(self, combo: _Combination, view: _View) -> bool:
        """A denial says its finding is absent only with no negation in or just before it ("bladder
        does not feel normal" is no denial) and only linking words between its concepts
        ("bladder leaking, bowels normal": the "normal" is the bowels')."""
        negators, norms = self._negators, view.norms
        if any(norms[i] in negators for i in combo.others(max(0, combo.start - 2), combo.end)):
            return False
        return all(norms[i] in self._links for i in combo.others(combo.start, combo.end))

    def _mention(
        self,
        doc: Doc,
        comp: _Composition,
        combo: _Combination,
        view: _View,
        owned: frozenset[int],
    ) -> Span:
        """The span, with the concepts that made it, and whether a negation the mention absorbed
        denies it. ConText ignores a cue inside a mention, so a negation between the concepts ("my
        legs aren't weak") is recorded here; and so is one right before it, which a ConText
        pseudo-cue can hide ("no problems with my waterworks": medspaCy does not read "no problem"
        as a negation)."""
        span = Span(doc, combo.start, combo.end, label=comp.label)
        ordered = sorted(combo.hits, key=lambda h: h.start)
        span._.concepts = [f"{h.concept}: {doc[h.start : h.end].text}" for h in ordered]
        span._.negated_within = not comp.denies and (
            any(
                view.norms[i] in self._negators
                for i in combo.others(combo.start, combo.end)
                if i not in owned
            )
            or _determiner_negation_before(combo.start, view, self._determiners)
        )
        return span

    def _near(
        self,
        concepts: frozenset[str],
        by_concept: dict[str, list[ConceptHit]],
        clause: list[int],
        clause_id: int,
    ) -> bool:
        return any(clause[h.start] == clause_id for c in concepts for h in by_concept.get(c, []))

    @staticmethod
    def _beside(concepts: frozenset[str], by_concept: dict[str, list[ConceptHit]], hit: ConceptHit) -> bool:
        """One of `concepts` overlaps `hit` or lies within two words of it."""
        return any(
            h.start < hit.end + _BESIDE and hit.start - _BESIDE < h.end
            for c in concepts
            for h in by_concept.get(c, ())
        )

    def drop_excluded(self, spans: list[Span], hits: list[ConceptHit]) -> list[Span]:
        """Drop mentions that a concept next to them rules out ("a splint to prevent foot drop")."""
        if not self._not_near and not self._not_within and not self._not_in_clause:
            return spans
        ruling = self._ruling
        hits = [h for h in hits if h.concept in ruling]
        if not hits:
            return spans
        return [span for span in spans if not self._excluded(span, hits)]

    def _excluded(self, span: Span, hits: list[ConceptHit]) -> bool:
        """A pattern mention whose own words rule its finding out; a ruling-out concept within two
        words of a mention; or all of a group of concepts in its clause (numbness from a saddle
        that came back fine once off the bike)."""
        finding = span.label_.removesuffix(ABSENT_SUFFIX)
        inside = self._not_within.get(finding)
        if (
            inside
            and span._.concepts is None
            and any(h.concept in inside and _overlaps(h, span) for h in hits)
        ):
            return True
        ruled_out = self._not_near.get(finding)
        if ruled_out and any(h.concept in ruled_out and _beside_span(h, span) for h in hits):
            return True
        return self._in_clause_with(self._not_in_clause.get(finding, ()), span, hits)

    @staticmethod
    def _in_clause_with(groups: Iterable[frozenset[str]], span: Span, hits: list[ConceptHit]) -> bool:
        """Every concept of one of `groups` is in the clause where `span` starts."""
        clause = span.doc.user_data[_VIEW].clause
        here = {h.concept for h in hits if clause[h.start] == clause[span.start]}
        return any(group <= here for group in groups)


def _outermost(found: set[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The matches that no longer match of the same concept contains, in text order."""
    kept: list[tuple[str, int, int]] = []
    last_concept, reach = "", -1
    for concept, start, end in sorted(found, key=lambda f: (f[0], f[1], -f[2])):
        if concept == last_concept and end <= reach:
            continue
        if concept != last_concept:
            last_concept, reach = concept, -1
        reach = max(reach, end)
        kept.append((concept, start, end))
    return sorted(kept, key=lambda f: (f[1], f[2], f[0]))


def _fits(comp: _Composition, combo: _Combination, view: _View) -> bool:
    """Within the composition's window, in one clause, no two hits on the same words, and for a
    composition that must be one phrase, no comma inside."""
    if combo.end - combo.start > comp.window or len({view.clause[h.start] for h in combo.hits}) > 1:
        return False
    if _overlapping(combo.hits):
        return False
    return not (comp.one_phrase and any(view.norms[i] == "," for i in range(combo.start, combo.end)))


def _owned_negations(
    by_concept: dict[str, list[ConceptHit]], view: _View, negators: frozenset[str]
) -> frozenset[int]:
    """The words of concept phrases that carry their own negation ("sin fuerza", "no feeling"): a
    mention that takes such a phrase in passing ("las piernas sin fuerza, como de plomo") is not
    denied by it."""
    return frozenset(
        i
        for hits in by_concept.values()
        for h in hits
        if h.end - h.start > 1 and any(view.norms[j] in negators for j in range(h.start, h.end))
        for i in range(h.start, h.end)
    )


def _determiner_negation_before(start: int, view: _View, determiners: frozenset[str]) -> bool:
    """A determiner that negates ("no", "nil", "without") in the two words before a mention,
    in its clause."""
    return any(
        view.norms[i] in determiners and view.clause[i] == view.clause[start]
        for i in range(max(0, start - 2), start)
    )


def _compositions(voc: ConceptVocabulary) -> list[_Composition]:
    """Every finding's compositions, a denial's labelled with the absent suffix."""
    return [
        _Composition(
            finding + (ABSENT_SUFFIX if comp.denies else ""),
            tuple(comp.all),
            frozenset(comp.none),
            comp.window,
            comp.denies,
            frozenset(comp.beside),
            comp.one_phrase,
        )
        for finding, comps in voc.findings.items()
        for comp in comps
    ]


def _ruling_concepts(voc: ConceptVocabulary) -> frozenset[str]:
    """Every concept that rules a finding out (not_near, not_within, not_in_clause)."""
    singles = {c for group in (*voc.not_near.values(), *voc.not_within.values()) for c in group}
    return frozenset(singles) | {c for groups in voc.not_in_clause.values() for g in groups for c in g}


def _overlaps(hit: ConceptHit, span: Span) -> bool:
    return hit.start < span.end and span.start < hit.end


def _beside_span(hit: ConceptHit, span: Span) -> bool:
    """The hit overlaps the span or lies within two words of it."""
    return hit.start < span.end + _BESIDE and span.start - _BESIDE < hit.end


def _in_hits(i: int, combo: Iterable[ConceptHit]) -> bool:
    return any(h.start <= i < h.end for h in combo)


def _overlapping(combo: Sequence[ConceptHit]) -> bool:
    ordered = sorted(combo, key=lambda h: h.start)
    return any(a.end > b.start for a, b in itertools.pairwise(ordered))


def _aside(token: Token) -> bool:
    doc = token.doc
    return 0 < token.i < len(doc) - 1 and doc[token.i - 1].text == "," and doc[token.i + 1].text == ","


def _chain(
    name: str, parts: list[list[ConceptHit]], gap: int, doc: Doc, stops: list[bool]
) -> list[ConceptHit]:
    """Concepts in order, each starting at most `gap` words after the previous ends, with no
    punctuation or clause break between them."""
    if not all(parts):
        return []
    chains: list[tuple[ConceptHit, ...]] = [(h,) for h in parts[0]]
    for options in parts[1:]:
        chains = [
            c + (h,)
            for c in chains
            for h in options
            if 0 <= h.start - c[-1].end <= gap and not any(stops[c[-1].end : h.start])
        ]
    out = []
    for chain in chains:
        start, end = chain[0].start, chain[-1].end
        out.append(ConceptHit(name, start, end))
    return out
