"""From free text to findings: what counts as present, what as absent, and what is ignored.

Rules (from the safety policy, not from convenience):
  * only affirmed, current mentions about the patient count as present;
  * negated mentions count as absent, so "no bladder problems" answers the red-flag question;
  * uncertain ("?CES", "I think"), hypothetical ("return if ...") and other people's ("my dad
    had ...") mentions never count as present and never as absent;
  * past mentions count only for findings that are themselves about history (cancer, diabetes,
    osteoporosis ...): "history of breast cancer" is the finding; "sciatica 10 years ago" is not
    today's sciatica;
  * when mentions of one finding disagree, present wins: a red flag is never talked away by a
    negation elsewhere in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from spacy.tokens import Span

from backtriage.domain.assessment import TextMention, TextReading
from backtriage.domain.note import SectionRole
from backtriage.errors import InvalidInputError
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.knowledge.schema import SYMPTOM_GROUPS, FindingGroup
from backtriage.text.context import ContextAttributes, Experiencer, attributes_of
from backtriage.text.extract import extract_demographics, extract_time_course, sentence_spans
from backtriage.text.layout import MESSAGE, NoteLayout, read_layout
from backtriage.text.pipeline import HEADED_LINE, SPAN_GROUP, TextPipeline, default_pipeline
from backtriage.text.resources import ABSENT_SUFFIX, ConceptVocabulary
from backtriage.text.stability import judge_stability

__all__ = ["MAX_TEXT_CHARS", "TextFindings", "clean_text", "understand"]

#: The longest text accepted, in characters (a long discharge summary is ~30,000).
MAX_TEXT_CHARS = 100_000


@dataclass
class TextFindings:
    """The answers read from a text, and the reading behind them."""

    answers: dict[str, bool] = field(default_factory=dict)
    reading: TextReading | None = None
    layout: NoteLayout = MESSAGE

    def mentions_of(self, finding: str) -> list[TextMention]:
        return [m for m in (self.reading.mentions if self.reading else []) if m.finding == finding]


#: Control, format, surrogate and private-use characters (but not tab or line breaks).
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff0-\ufffb\ud800-\udfff\ue000-\uf8ff]"
)
_WRAPPED_LINE = re.compile(
    r"(?<!\n)\r?\n(?![\r\n])(?![ \t]*(?:[-*\u2022\u00b7]|\d{1,2}[.)]\s|[A-Za-z][A-Za-z/ &()-]{0,30}:))"
)


def clean_text(text: str) -> str:
    """Check the size, drop characters that are not text (NULs, other control characters) and
    turn line breaks that merely wrap a sentence into spaces, so "no\nbladder symptoms" is read
    as one phrase. Every character keeps its offset, so spans point into the original text."""
    if not isinstance(text, str):
        raise InvalidInputError("text must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInputError(
            f"text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}. "
            "Split it into separate notes."
        )
    printable = _LONG_SPACE.sub(_break_space, _LONG_RUN.sub(_open_run, _NOT_TEXT.sub(" ", text)))
    return _WRAPPED_LINE.sub(_unwrap, _quieten(printable))


def _quieten(text: str) -> str:
    """A text typed in capitals is read in lower case (character for character, so offsets stay):
    the vocabulary's lemmas and spelling correction are for ordinary text, and capitals are how
    some people type, not abbreviations."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 20 or sum(c.isupper() for c in letters) < 0.6 * len(letters):
        return text
    return "".join(low if len(low := c.lower()) == 1 else c for c in text)


#: A run of this many characters without a space is not language; the tokenizer's affix search
#: is quadratic in a token's length, so such runs are opened up before reading.
LONG_RUN = 64
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN},}}")
_NOT_WORD = re.compile(r"\W")


_LONG_SPACE = re.compile(r"\s{16,}")


def _break_space(match: re.Match[str]) -> str:
    """A long stretch of blank space gets full stops in it (offsets kept; its first and last two
    characters, which may be a paragraph break, stay): patterns that allow spaces between words
    would otherwise try every way of dividing it, which is cubic in its length."""
    gap = match.group(0)
    middle = "".join("." if i % 2 else c for i, c in enumerate(gap[2:-2]))
    return gap[:2] + middle + gap[-2:]


def _open_run(match: re.Match[str]) -> str:
    """Every character of a long run that is not a letter or digit becomes a space (offsets
    kept), so "!!!!..." or a wall of emoji is read in time linear in its length; words in it
    stay whole."""
    return _NOT_WORD.sub(" ", match.group(0))


#: The next line opens a new sentence: a capitalised word ("No numbness ...", "I can't ...").
_NEW_SENTENCE = re.compile(r"[ \t]*(?:[A-Z][a-z']|I\b)")


def _unwrap(match: re.Match[str]) -> str:
    """A line break inside a sentence becomes a space; but a line that is a heading with its
    content ("PMH: nil") ends there, so what follows is not read as part of it, and so does a
    line followed by one that opens with a capital: people end a sentence with a line break
    ("tingles sometimes" / "Denies saddle anaesthesia ..."), and joined, a denial would be read
    as part of the sentence before it."""
    text = match.string
    line_start = text.rfind("\n", 0, match.start()) + 1
    if HEADED_LINE.match(text, line_start, match.start()) or _NEW_SENTENCE.match(text, match.end()):
        return match.group(0)
    return " " * len(match.group(0))


def understand(
    text: str, pipeline: TextPipeline | None = None, kb: KnowledgeBase | None = None
) -> TextFindings:
    raw = text
    text = clean_text(text)
    kb = kb or load_knowledge_base()
    reading_notes: list[str] = []
    if not text.strip():
        reading = TextReading(
            characters=len(text), mentions=[], notes=["The text is empty, so nothing could be read from it."]
        )
        return TextFindings(answers={}, reading=reading)

    pipe = pipeline or default_pipeline()
    mentions: list[TextMention] = []
    seen: set[tuple[str, int, int]] = set()
    course = extract_time_course(text)
    cues = _cues(pipe.resources.concepts)
    found = list(_read_in_pieces(pipe, text))
    symptoms = [offset + span.start_char for offset, span in found if _is_symptom(kb, span.label_)]
    proxy = _written_for_someone_else(text, cues, symptoms)
    layout = read_layout(text, pipe.resources.layout)
    history = [] if layout.is_document else _history_blocks(raw, cues.history_heading)
    negators = cues.negators
    if proxy:
        reading_notes.append(
            "The text seems to be written about someone else (a relative or friend), so what it "
            "says of them is read as the patient's own."
        )
    for offset, span in found:
        label = span.label_
        denies = label.endswith(ABSENT_SUFFIX)
        finding = label.removesuffix(ABSENT_SUFFIX)
        start, end = offset + span.start_char, offset + span.end_char
        key = (label, start, end)
        if key in seen or finding not in kb.findings:
            continue
        seen.add(key)
        attrs = attributes_of(span)
        if span._.negated_within and not attrs.negated:
            attrs = attrs.model_copy(update={"negated": True})
        elif attrs.negated and not denies and cues.inability and cues.inability.match(span.text):
            attrs = attrs.model_copy(update={"negated": False})  # its own negation, not another's
        if not attrs.historical and any(a <= start < b for a, b in history):
            attrs = attrs.model_copy(update={"historical": True})
        if proxy and attrs.experiencer is not Experiencer.PATIENT and attrs.section != "family_history":
            attrs = attrs.model_copy(update={"experiencer": Experiencer.PATIENT})
        section = layout.section_at(start)
        if section is not None:
            attrs = _in_section(attrs, section.role)
        directly_negated = denies and _negated_just_before(span, negators)
        counted, reason = _count(
            kb,
            finding,
            attrs,
            denies=denies,
            directly_negated=directly_negated,
            only_current=cues.only_current,
            role=section.role if section else None,
        )
        mentions.append(
            TextMention.model_construct(
                finding=finding,
                text=span.text,
                start=start,
                end=end,
                negated=attrs.negated,
                uncertain=attrs.uncertain,
                historical=attrs.historical,
                hypothetical=attrs.hypothetical,
                experiencer=attrs.experiencer.value,
                section=section.heading if section else attrs.section,
                section_role=section.role if section else None,
                region=pipe.resources.regions.get(finding),
                laterality=_laterality(span),
                counted_as=counted,
                reason=reason,
                concepts=list(span._.concepts or ()),
                corrections=_corrections(span, pipe),
            )
        )
    mentions = _drop_superseded(mentions)
    mentions.sort(key=lambda m: (m.start, m.finding))
    stability = judge_stability(mentions, course, text, kb)
    mentions = stability.mentions

    answers: dict[str, bool] = {}
    for m in mentions:
        if m.counted_as == "present":
            answers[m.finding] = True
        elif m.counted_as == "absent" and answers.get(m.finding) is not True:
            answers[m.finding] = False

    age, sex = extract_demographics(text)
    answers.pop(kb.policy.long_standing_finding, None)
    if stability.answer is not None:
        answers[kb.policy.long_standing_finding] = stability.answer
    if not mentions:
        reading_notes.append(
            "No findings were recognised in the text. It may not describe back symptoms, may "
            "be in a language other than English, or may use words we do not yet know; the "
            "red-flag questions still need answering."
        )
    reading = TextReading(
        characters=len(text),
        mentions=mentions,
        age=age.value if age else None,  # type: ignore[arg-type]
        age_text=age.text if age else None,
        sex=sex.value if sex else None,  # type: ignore[arg-type]
        sex_text=sex.text if sex else None,
        duration_days=course.duration_days,
        duration_text=course.duration.text if course.duration else None,
        onset=course.onset,
        notes=reading_notes,
        resources_version=pipe.resources.version,
        resources_hash=pipe.resources.content_hash,
    )
    return TextFindings(answers=answers, reading=reading, layout=layout)


def _in_section(attrs: ContextAttributes, role: SectionRole) -> ContextAttributes:
    """What a note's section says of a mention in it: past history is past, family history is
    a relative's."""
    if role is SectionRole.HISTORY and not attrs.historical:
        return attrs.model_copy(update={"historical": True})
    if role is SectionRole.FAMILY and attrs.experiencer is Experiencer.PATIENT:
        return attrs.model_copy(update={"experiencer": Experiencer.FAMILY})
    return attrs


#: Sections where no finding is read: drug names, steps and instruments of an operation, advice.
_NOT_READ = {
    SectionRole.MEDICATIONS: "in a list of medicines or allergies",
    SectionRole.PROCEDURE: "in the account of how a procedure was done",
    SectionRole.INSTRUCTIONS: "in advice or instructions given to the patient",
}


_SIDES = {
    "left": "left",
    "l": "left",
    "lt": "left",
    "right": "right",
    "r": "right",
    "rt": "right",
    "both": "both",
    "bilateral": "both",
    "bilaterally": "both",
    "bilat": "both",
    "b/l": "both",
}


_PAST_OF_RELATIVE = re.compile(
    r"\b(?:had|has\s+had|died|passed|was|suffered|used|got\s+diagnosed|history)\b", re.I
)


def _corrections(span: Span, pipe: TextPipeline) -> list[str]:
    """The misspelt words of a mention and the words they were read as."""
    fix = pipe.concepts.normaliser.correction
    return [f"{t.text} -> {c}" for t in span if (c := fix(t.lower_)) is not None]


_LIST_ITEM = re.compile(r"[ \t]*(?:[-*\u2022\u00b7#]|\d{1,2}[.)]|[a-z][.)]\s)", re.I)


@dataclass(frozen=True)
class _Cues:
    """What understand() needs from the concept vocabulary, compiled once per vocabulary."""

    negators: frozenset[str]
    inability: re.Pattern[str] | None
    respell: dict[str, str]
    only_current: frozenset[str]
    history_heading: re.Pattern[str] | None
    relative_opening: re.Pattern[str] | None
    own_body: re.Pattern[str] | None
    told_now: re.Pattern[str] | None


_CUES: dict[int, tuple[ConceptVocabulary, _Cues]] = {}


def _cues(vocabulary: ConceptVocabulary) -> _Cues:
    """Compiled once per vocabulary (kept beside it, so its id cannot be reused)."""
    cached = _CUES.get(id(vocabulary))
    if cached is None or cached[0] is not vocabulary:
        cached = _CUES[id(vocabulary)] = (vocabulary, _compile_cues(vocabulary))
    return cached[1]


def _compile_cues(vocabulary: ConceptVocabulary) -> _Cues:
    def words(items: list[str]) -> str:
        return "|".join(re.escape(w) for w in items)

    headings, proxy = vocabulary.history_headings, vocabulary.proxy
    return _Cues(
        negators=_NEGATORS | frozenset(vocabulary.negators),
        respell=dict(vocabulary.respell),
        inability=re.compile(rf"(?:{words(vocabulary.inability)})\b", re.I) if vocabulary.inability else None,
        only_current=frozenset(vocabulary.only_current),
        history_heading=re.compile(rf"[ \t]*(?:{words(headings)})\b\s*(?::|-|$)", re.I) if headings else None,
        # "My mum is 81 ...", or a text that starts with the relative ("dad 74 collapsed ...")
        relative_opening=re.compile(
            rf"(?:\b(?:{words(proxy.openers)})\W+(?:\w+\s+)?|(?:^|,)\W*(?:(?:\w+\W+)?\d+[\w-]*\W+(?:\w+\W+){{0,2}}?)?)"
            rf"(?:{words(proxy.relatives)})\b(?P<next>(?:\W+\w+){{0,3}})"
        )
        if proxy
        else None,
        own_body=re.compile(rf"\bmy\s+(?:own\s+|\w+\s+)?(?:{words(proxy.own_body)})\b") if proxy else None,
        # "he ... today", "now she can't": the relative's symptoms told as happening now
        told_now=re.compile(
            rf"\b(?:{words(proxy.third_person)})\b.*\b(?:{words(proxy.now)})\b"
            rf"|\b(?:{words(proxy.now)})\b.*\b(?:{words(proxy.third_person)})\b"
        )
        if proxy and proxy.third_person and proxy.now
        else None,
    )


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


def _is_symptom(kb: KnowledgeBase, label: str) -> bool:
    finding = kb.findings.get(label.removesuffix(ABSENT_SUFFIX))
    return finding is not None and finding.group in SYMPTOM_GROUPS


def _written_for_someone_else(text: str, cues: _Cues, symptom_starts: list[int]) -> bool:
    """A text with a sentence that opens on a relative ("My mum is 81 and ...", "Dear Dr, dad 74
    collapsed") is about that relative, so their symptoms are the patient's, not family history;
    unless the writer also speaks of symptoms in their own body ("my legs are numb too"). Any
    sentence counts, not only the first, so a greeting, an age or a reordering in front does not
    change who the text is about, and "a mole on my arm for years" is no symptom of the writer's."""
    if cues.relative_opening is None or cues.own_body is None:
        return False
    lowered = text.lower()
    sentences = sentence_spans(lowered)
    with_findings = {i for i, (a, b) in enumerate(sentences) if any(a <= m < b for m in symptom_starts)}
    opened_now = opened_in_past = told_of_them = False
    for i, (start, end) in enumerate(sentences):
        sentence = lowered[start:end]
        if i in with_findings and cues.own_body.search(sentence) is not None:
            return False
        if i in with_findings and cues.told_now is not None and cues.told_now.search(sentence):
            told_of_them = True
        opening = " ".join(cues.respell.get(word, word) for word in sentence.split()[:8])
        opened = cues.relative_opening.search(opening)
        if opened is not None and _PAST_OF_RELATIVE.search(opened.group("next")):
            opened_in_past = True
        elif opened is not None:
            opened_now = True
    # "My dad had ..." is family history told by the patient, unless the text goes on to tell
    # their symptoms now ("my son had a tummy bug last week, today he can't walk").
    return opened_now or (opened_in_past and told_of_them)


#: Longer texts are read a piece at a time, cut at paragraph or sentence ends: ConText compares
#: every modifier with every mention in a doc, which is quadratic in a text's length.
PIECE_CHARS = 2000


def _read_in_pieces(pipe: TextPipeline, text: str) -> Iterator[tuple[int, Span]]:
    """(offset of the piece, mention) for every mention, piece by piece. A section heading
    does not reach across a cut; cuts fall at blank lines first, where sections usually end."""
    start = 0
    while start < len(text):
        end = _piece_end(text, start)
        doc = pipe(text[start:end])  # kept alive while its spans are read
        for span in doc.spans.get(SPAN_GROUP, []):
            yield start, span
        start = end


def _piece_end(text: str, start: int) -> int:
    limit = start + PIECE_CHARS
    if limit >= len(text):
        return len(text)
    floor = start + PIECE_CHARS // 2
    for mark in ("\n\n", ". ", "\n", " "):
        cut = text.rfind(mark, floor, limit)
        if cut >= 0:
            return cut + len(mark)
    return limit


def _back_within_sentence(span: Span, words: int) -> int:
    """The token `words` before the mention, or its sentence's first token if nearer. (Asking
    spaCy for ``span.sent`` walks the whole sentence, which is quadratic over a long text.)"""
    doc, lowest = span.doc, max(0, span.start - words)
    for i in range(span.start, lowest, -1):
        if doc[i].is_sent_start:
            return i
    return lowest


def _laterality(span: Span) -> str | None:
    """Side named in the mention or just before it ("L foot drop", "both legs numb")."""
    window = span.doc[_back_within_sentence(span, 3) : span.end]
    sides = {_SIDES[t.lower_] for t in window if t.lower_ in _SIDES}
    if "both" in sides or sides == {"left", "right"}:
        return "both"
    return sides.pop() if sides else None


_DENIAL = "phrase that says the finding is absent"
_NEGATORS = frozenset({"no", "not", "n't", "nt", "never", "nil", "without"})


def _negated_just_before(span: Span, negators: frozenset[str]) -> bool:
    """A negation within four words before the mention, with no punctuation between ("I
    wouldn't say my bladder is normal"); a list's "no" before a comma is not one ("no numb bum,
    wee and poo normal")."""
    for token in reversed(span.doc[_back_within_sentence(span, 4) : span.start]):
        if token.is_punct:
            return False
        if token.lower_ in negators or token.norm_ in negators:
            return True
    return False


def _drop_superseded(mentions: list[TextMention]) -> list[TextMention]:
    """A denial phrase ("bladder and bowels normal") supersedes a bare pattern mention of the same
    finding that overlaps it ("bladder and bowels"), whose negation cue the denial absorbed; never
    a mention described by concepts of its own ("can't" + "walk on my heels", "bladder leaking")."""
    denials = [m for m in mentions if m.reason == _DENIAL]
    denial_ids = {id(d) for d in denials}
    kept = []
    for m in mentions:
        inside = id(m) not in denial_ids and any(
            d is not m and d.finding == m.finding and d.start < m.end and m.start < d.end and not m.concepts
            for d in denials
        )
        if not inside:
            kept.append(m)
    return kept


def _count(
    kb: KnowledgeBase,
    finding: str,
    attrs: ContextAttributes,
    denies: bool = False,
    directly_negated: bool = False,
    only_current: frozenset[str] = frozenset(),
    role: SectionRole | None = None,
) -> tuple[str, str]:
    if role in _NOT_READ:
        return "ignored", _NOT_READ[role]
    if attrs.experiencer.value != "patient":
        return "ignored", f"about someone else ({attrs.experiencer.value})"
    if attrs.hypothetical:
        return "ignored", "hypothetical (for example safety-netting advice or a question)"
    if attrs.uncertain:
        return "ignored", "uncertain (possible, suspected or to be ruled out)"
    about_history = kb.findings[finding].group is FindingGroup.HISTORY and finding not in only_current
    if attrs.historical and not about_history:
        return "ignored", "in the past, not current"
    if denies:
        if directly_negated:
            return "ignored", "a negated denial; not read as the finding being present"
        return "absent", _DENIAL
    if attrs.negated:
        return "absent", "negated"
    return "present", "affirmed"
