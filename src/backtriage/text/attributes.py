"""Stage 3 of reading a text: what each mention is (negated, uncertain, past, hypothetical, whose).

ConText answers for the sentence; the whole text corrects it: a note's section (past history is
past, family history a relative's), a past-history list in a message ("PMH:" and the lines under
it), and a text written about someone else ("My mum is 81 and ..."), whose symptoms are the
patient's. The cues for the last two are data (`concepts.yaml`: history_headings, proxy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backtriage.domain.note import SectionRole
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import SYMPTOM_GROUPS
from backtriage.text.context import ContextAttributes, Experiencer, attributes_of
from backtriage.text.extract import sentence_spans
from backtriage.text.layout import NoteLayout, Section
from backtriage.text.mentions import FoundMention
from backtriage.text.resources import ConceptVocabulary
from backtriage.text.words import words_pattern

__all__ = ["Cues", "MentionInContext", "Surroundings", "cues_of", "in_context", "read_surroundings"]


@dataclass(frozen=True)
class Cues:
    """What reading a text needs from the concept vocabulary, compiled once per vocabulary."""

    negators: frozenset[str]
    inability: re.Pattern[str] | None
    verb_negation: re.Pattern[str] | None  # ends the words just before a mention ("no me ")
    respell: dict[str, str]
    only_current: frozenset[str]
    history_heading: re.Pattern[str] | None
    relative_opening: re.Pattern[str] | None
    own_body: re.Pattern[str] | None
    told_now: re.Pattern[str] | None
    past_of_relative: re.Pattern[str] | None
    sides: dict[str, str]  # word -> "left", "right" or "both"


@dataclass(frozen=True)
class Surroundings:
    """What the whole text says of every mention in it."""

    layout: NoteLayout
    history: list[tuple[int, int]]  # past-history lists in a message (a note has sections)
    proxy: bool  # written about someone else: their symptoms are the patient's
    cues: Cues

    def in_history_list(self, offset: int) -> bool:
        return any(a <= offset < b for a, b in self.history)


@dataclass(frozen=True)
class MentionInContext:
    """A mention, what it is, and the section of the note it stands in."""

    found: FoundMention
    attrs: ContextAttributes
    section: Section | None

    @property
    def role(self) -> SectionRole | None:
        return self.section.role if self.section is not None else None


def read_surroundings(
    raw: str, text: str, layout: NoteLayout, mentions: list[FoundMention], cues: Cues, kb: KnowledgeBase
) -> Surroundings:
    """`raw` is the text as given (its lines as written), `text` the cleaned one."""
    symptoms = [m.start for m in mentions if kb.findings[m.finding].group in SYMPTOM_GROUPS]
    history = [] if layout.is_document else _history_blocks(raw, cues.history_heading)
    return Surroundings(layout, history, _written_for_someone_else(text, cues, symptoms, raw), cues)


def in_context(mention: FoundMention, around: Surroundings) -> MentionInContext:
    """ConText's attributes, corrected by the mention's own words and by the whole text. The order
    matters: a section's role comes last, so family history stays a relative's in a proxy text."""
    attrs = _own_negation(mention, attributes_of(mention.span), around.cues)
    if not attrs.historical and around.in_history_list(mention.start):
        attrs = attrs.model_copy(update={"historical": True})
    if around.proxy and attrs.experiencer is not Experiencer.PATIENT and attrs.section != "family_history":
        attrs = attrs.model_copy(update={"experiencer": Experiencer.PATIENT})
    section = around.layout.section_at(mention.start)
    if section is not None:
        attrs = _in_section(attrs, section.role)
    return MentionInContext(mention, attrs, section)


def _own_negation(mention: FoundMention, attrs: ContextAttributes, cues: Cues) -> ContextAttributes:
    """A negation the concept reader saw inside a mention ("my legs aren't weak") negates it,
    though ConText ignores cues inside a mention; so does a verb's negation with only its object
    pronouns before the mention ("no me duele el pecho"), which ConText misses when the pronouns
    open the mention or end its scope. A mention that holds an inability ("can't feel", "las
    piernas no me sostienen") is not negated by its own "not", nor by one before it."""
    if not attrs.negated and (mention.span._.negated_within or _verb_negated(mention, cues.verb_negation)):
        return attrs.model_copy(update={"negated": True})
    if attrs.negated and not mention.denies and cues.inability and cues.inability.search(mention.span.text):
        return attrs.model_copy(update={"negated": False})
    return attrs


def _verb_negated(mention: FoundMention, verb_negation: re.Pattern[str] | None) -> bool:
    """The words of the mention's sentence before it end in a verb's negation and its pronouns."""
    if verb_negation is None or mention.denies:
        return False
    span = mention.span
    before = span.doc.text[max(span.sent.start_char, span.start_char - 40) : span.start_char]
    return verb_negation.search(before) is not None


def _in_section(attrs: ContextAttributes, role: SectionRole) -> ContextAttributes:
    """What a note's section says of a mention in it: past history is past, family history is
    a relative's."""
    if role is SectionRole.HISTORY and not attrs.historical:
        return attrs.model_copy(update={"historical": True})
    if role is SectionRole.FAMILY and attrs.experiencer is Experiencer.PATIENT:
        return attrs.model_copy(update={"experiencer": Experiencer.FAMILY})
    return attrs


# ---- the vocabulary's cues ----------------------------------------------------------------------

_CUES: dict[int, tuple[ConceptVocabulary, Cues]] = {}


def cues_of(vocabulary: ConceptVocabulary) -> Cues:
    """Compiled once per vocabulary (kept beside it, so its id cannot be reused)."""
    cached = _CUES.get(id(vocabulary))
    if cached is None or cached[0] is not vocabulary:
        cached = _CUES[id(vocabulary)] = (vocabulary, _compile_cues(vocabulary))
    return cached[1]


def _words(items: list[str]) -> str:
    return "|".join(re.escape(w) for w in items)


def _verb_negation(vocabulary: ConceptVocabulary) -> re.Pattern[str] | None:
    """ "no me " at the end of the words before a mention: a negation, then only pronouns."""
    if not vocabulary.verb_negators:
        return None
    pronouns = rf"(?:(?:{_words(vocabulary.clitics)})\s+){{0,3}}" if vocabulary.clitics else ""
    return re.compile(rf"(?:^|[\s¿¡(\"'])(?:{_words(vocabulary.verb_negators)})\s+{pronouns}$", re.I)


def _compile_cues(vocabulary: ConceptVocabulary) -> Cues:
    headings, inability, proxy = vocabulary.history_headings, vocabulary.inability, vocabulary.proxy
    relative_opening, own_body, told_now = _proxy_cues(vocabulary)
    return Cues(
        negators=frozenset(vocabulary.negators) | frozenset(vocabulary.negator_tokens),
        respell=dict(vocabulary.respell),
        inability=re.compile(rf"(?<!\w)(?:{_words(inability)})\b", re.I) if inability else None,
        verb_negation=_verb_negation(vocabulary),
        only_current=frozenset(vocabulary.only_current),
        history_heading=re.compile(rf"[ \t]*(?:{_words(headings)})\b\s*(?::|-|$)", re.I)
        if headings
        else None,
        relative_opening=relative_opening,
        own_body=own_body,
        told_now=told_now,
        past_of_relative=re.compile(rf"\b(?:{words_pattern(proxy.past)})\b", re.I)
        if proxy is not None and proxy.past
        else None,
        sides={word: side for side, words in vocabulary.sides.items() for word in words},
    )


def _proxy_cues(
    vocabulary: ConceptVocabulary,
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]:
    """A sentence that opens on a relative, the writer's own body, a relative's symptoms now."""
    proxy = vocabulary.proxy
    if proxy is None:
        return None, None, None
    # "My mum is 81 ...", or a text that starts with the relative ("dad 74 collapsed ...")
    relative_opening = re.compile(
        rf"(?:\b(?:{_words(proxy.openers)})\W+(?:\w+\s+)?|(?:^|,)\W*(?:(?:\w+\W+)?\d+[\w-]*\W+(?:\w+\W+){{0,2}}?)?)"
        rf"(?:{_words(proxy.relatives)})\b(?P<next>(?:\W+\w+){{0,3}})"
    )
    # "my legs", "my own legs", "my left leg": a possessive, at most one word, a part of the body
    own_body = (
        re.compile(rf"\b(?:{_words(proxy.possessives)})\s+(?:\w+\s+)?(?:{_words(proxy.own_body)})\b")
        if proxy.possessives
        else None
    )
    # "he ... today", "now she can't": the relative's symptoms told as happening now
    told_now = (
        re.compile(
            rf"\b(?:{_words(proxy.third_person)})\b.*\b(?:{_words(proxy.now)})\b"
            rf"|\b(?:{_words(proxy.now)})\b.*\b(?:{_words(proxy.third_person)})\b"
        )
        if proxy.third_person and proxy.now
        else None
    )
    return relative_opening, own_body, told_now


# ---- past-history lists in a message --------------------------------------------------------------

_LIST_ITEM = re.compile(r"[ \t]*(?:[-*\u2022\u00b7#]|\d{1,2}[.)]|[a-z][.)]\s)", re.I)
#: A full stop with more words after it on the same line.
_MORE_SENTENCES = re.compile(r"\.\s+(?=\S)")


def _history_blocks(text: str, heading: re.Pattern[str] | None) -> list[tuple[int, int]]:
    """Character ranges of past-history lists: a heading line and the list lines after it. A
    heading line that goes on in sentences of another kind ("PMH: asthma. pooed myself at work")
    is history only up to its first full stop."""
    if heading is None:
        return []
    blocks: list[tuple[int, int]] = []
    start: int | None = None
    pos = 0
    for line in text.splitlines(keepends=True):
        if heading.match(line) and (stop := _MORE_SENTENCES.search(line)) is not None:
            if start is not None:
                blocks.append((start, pos))
            blocks.append((pos, pos + stop.start()))
            start = None
        elif heading.match(line):
            if start is not None:
                blocks.append((start, pos))
            start = pos
        elif start is not None and not _LIST_ITEM.match(line):
            blocks.append((start, pos))
            start = None
        pos += len(line)
    if start is not None:
        blocks.append((start, pos))
    return blocks


# ---- a text written about someone else --------------------------------------------------------------


def _written_for_someone_else(text: str, cues: Cues, symptom_starts: list[int], raw: str = "") -> bool:
    """A text with a sentence that opens on a relative ("My mum is 81 and ...", "Dear Dr, dad 74
    collapsed") is about that relative, so their symptoms are the patient's, not family history;
    unless the writer also speaks of symptoms in their own body ("my legs are numb too"). Any
    sentence counts, not only the first, so a greeting, an age or a reordering in front does not
    change who the text is about, and "a mole on my arm for years" is no symptom of the writer's.
    A line as written opens too: "hi there, quick question" / "dad 74 collapsed" is about dad,
    though cleaning joins the two lines into one sentence."""
    if cues.relative_opening is None or cues.own_body is None:
        return False
    lowered = text.lower()
    spans = sentence_spans(lowered)
    sentences = [lowered[a:b] for a, b in spans]
    told = [s for s, (a, b) in zip(sentences, spans, strict=True) if _holds(a, b, symptom_starts)]
    if any(cues.own_body.search(sentence) is not None for sentence in told):
        return False
    lines = [line for line in raw.lower().splitlines() if line.strip()]
    openings = [_after_relative(part, cues.relative_opening, cues.respell) for part in [*sentences, *lines]]
    past = cues.past_of_relative
    in_past = [past is not None and past.search(words) is not None for words in openings if words is not None]
    told_now = cues.told_now is not None and any(cues.told_now.search(sentence) for sentence in told)
    # "My dad had ..." is family history told by the patient, unless the text goes on to tell
    # their symptoms now ("my son had a tummy bug last week, today he can't walk").
    return not all(in_past) or (any(in_past) and told_now)


def _holds(start: int, end: int, offsets: list[int]) -> bool:
    return any(start <= m < end for m in offsets)


def _after_relative(sentence: str, relative_opening: re.Pattern[str], respell: dict[str, str]) -> str | None:
    """The words after the relative a sentence opens on ("my mum *is 81 and*"); None when it
    does not open on one."""
    opening = " ".join(respell.get(word, word) for word in sentence.split()[:8])
    opened = relative_opening.search(opening)
    return opened.group("next") if opened is not None else None
