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
from functools import partial

from spacy.tokens import Doc, Span

from backtriage.domain.assessment import ReadingNote, TextMention, TextReading
from backtriage.errors import InputProblem, InvalidInputError
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.knowledge.schema import FindingGroup
from backtriage.text.attributes import (
    Cues,
    MentionInContext,
    Surroundings,
    cues_of,
    in_context,
    read_surroundings,
)
from backtriage.text.concepts import lower_keeping_offsets
from backtriage.text.counting import CountedMention, answers_of, count, drop_superseded
from backtriage.text.extract import TimeCourse, extract_demographics, extract_time_course
from backtriage.text.identify import identify, readable_languages, unreadable_reading
from backtriage.text.layout import CAPITAL, LETTER, MESSAGE, NoteLayout, read_layout
from backtriage.text.mentions import corrections, find_mentions, laterality, negated_just_before
from backtriage.text.pipeline import HEADED_LINE, SPAN_GROUP, TextPipeline, default_pipeline
from backtriage.text.prepass import Window
from backtriage.text.resources import TextResources, load_text_resources
from backtriage.text.stability import Stability, judge_stability
from backtriage.text.words import SentenceWords, once_per, words_pattern

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
    rf"(?<!\n)\r?\n(?![\r\n])"
    rf"(?![ \t]*(?:[-*\u2022\u00b7]|\d{{1,2}}[.)]\s|[{LETTER}][{LETTER}/ &()-]{{0,30}}:))"
)


def clean_text(text: str, sentences: SentenceWords | None = None) -> str:
    """Check the size, drop characters that are not text (NULs, other control characters) and
    turn line breaks that merely wrap a sentence into spaces, so "no\nbladder symptoms" is read
    as one phrase. Every character keeps its offset, so spans point into the original text.
    `sentences`: the language's words that open a sentence (by default English's)."""
    if not isinstance(text, str):
        raise InvalidInputError("text must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInputError(
            f"text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}. "
            "Split it into separate notes.",
            problem=InputProblem.TEXT_TOO_LONG,
            values={"length": len(text), "limit": MAX_TEXT_CHARS},
        )
    printable = _LONG_SPACE.sub(_break_space, _LONG_RUN.sub(_open_run, _NOT_TEXT.sub(" ", text)))
    words = sentences if sentences is not None else load_text_resources().sentences
    return _WRAPPED_LINE.sub(partial(_unwrap, _new_sentence(words)), _quieten(printable))


def _quieten(text: str) -> str:
    """A text typed in capitals is read in lower case (character for character, so offsets stay):
    the vocabulary's lemmas and spelling correction are for ordinary text, and capitals are how
    some people type, not abbreviations."""
    letters = "".join(filter(str.isalpha, text))
    if len(letters) < 20 or sum(map(str.isupper, letters)) < 0.6 * len(letters):
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


def _new_sentence_pattern(words: SentenceWords) -> re.Pattern[str]:
    """The next line opens a new sentence: a capitalised word ("No numbness ...") or one of the
    language's one-letter capital words ("I can't ...")."""
    return re.compile(rf"[ \t]*(?:[{CAPITAL}][a-zß-öø-ÿ']|(?:{words_pattern(words.capital_words)})\b)")


_new_sentence = once_per(_new_sentence_pattern)


def _unwrap(new_sentence: re.Pattern[str], match: re.Match[str]) -> str:
    """A line break inside a sentence becomes a space; but a line that is a heading with its
    content ("PMH: nil") ends there, so what follows is not read as part of it, and so does a
    line followed by one that opens with a capital: people end a sentence with a line break
    ("tingles sometimes" / "Denies saddle anaesthesia ..."), and joined, a denial would be read
    as part of the sentence before it."""
    text = match.string
    line_start = text.rfind("\n", 0, match.start()) + 1
    if HEADED_LINE.match(text, line_start, match.start()) or new_sentence.match(text, match.end()):
        return match.group(0)
    return " " * len(match.group(0))


def understand(
    text: str,
    pipeline: TextPipeline | None = None,
    kb: KnowledgeBase | None = None,
    *,
    skim: bool = True,
    language: str | None = None,
) -> TextFindings:
    """Read a text in stages, each a function with typed input and output, so one can change
    without reading the others:

        clean        clean_text: characters that are not text out, wrapped lines joined
        sections     read_layout: a note's headings and what each section is for (layout.py)
        mentions     find_mentions: each finding the pipeline found, once (mentions.py)
        attributes   in_context: negated, uncertain, past, hypothetical, whose (attributes.py)
        counting     count: present, absent or ignored, for a CountReason (counting.py)
        durations    judge_stability: whether the features are old and unchanged (stability.py)
        answers      one per finding: present wins over absent

    `skim=False` reads every sentence (the pre-pass off); the findings are the same either way.
    The text is read in the language it is in, when backtriage has a folder for it (`language`,
    English by default, when it is too short to tell), or by `pipeline`, which carries its own. A
    text in a language backtriage cannot read gives no answers, only a note that says so: it is
    never triaged as if it had been read.
    """
    guess = identify(text, readable_languages(), default=language or "en") if pipeline is None else None
    resources = resources_of(pipeline, guess.language if guess and guess.supported else language)
    raw, text = text, clean_text(text, resources.sentences)
    kb = kb or load_knowledge_base()
    if not text.strip():
        reading = TextReading(characters=len(text), mentions=[], notes=[_EMPTY])
        return TextFindings(answers={}, reading=reading)
    if guess is not None and not guess.supported:  # a language we cannot read: nothing is used
        return TextFindings(answers={}, reading=unreadable_reading(raw, guess))
    pipe = pipeline or default_pipeline(resources.language)
    layout = read_layout(text, pipe.resources.layout)
    found = find_mentions(_read_in_pieces(pipe, text, skim), kb)
    cues = cues_of(pipe.resources.concepts)
    around = read_surroundings(raw, text, layout, found, cues, kb)
    counted = drop_superseded([_counted(in_context(m, around), cues, kb) for m in found])
    mentions = sorted((_as_text_mention(c, pipe, cues) for c in counted), key=lambda m: (m.start, m.finding))
    course = extract_time_course(text, resources.time_and_person)
    stability = judge_stability(mentions, course, text, kb)
    answers = _answers(stability, kb)
    reading = _reading(text, stability.mentions, course, around, pipe)
    return TextFindings(answers=answers, reading=reading, layout=layout)


def resources_of(pipeline: TextPipeline | None, language: str | None) -> TextResources:
    """The pipeline's text resources, or the shipped ones of `language` (English by default); a
    pipeline of another language than the one asked for is an error."""
    if pipeline is None:
        return load_text_resources(language=language or "en")
    if language is not None and language != pipeline.resources.language:
        raise InvalidInputError(f"the pipeline reads '{pipeline.resources.language}', not '{language}'")
    return pipeline.resources


_EMPTY = ReadingNote.EMPTY
_PROXY = ReadingNote.ABOUT_SOMEONE_ELSE
_NOTHING_FOUND = ReadingNote.NOTHING_FOUND


def _counted(mention: MentionInContext, cues: Cues, kb: KnowledgeBase) -> CountedMention:
    """How one mention counts (counting.py), given what the vocabulary and the knowledge base
    say of its finding."""
    found = mention.found
    reason = count(
        mention.attrs,
        mention.role,
        past_counts=kb.findings[found.finding].group is FindingGroup.HISTORY
        and found.finding not in cues.only_current,
        denies=found.denies,
        directly_negated=found.denies and negated_just_before(found.span, cues.negators),
    )
    return CountedMention(mention, reason)


def _as_text_mention(counted: CountedMention, pipe: TextPipeline, cues: Cues) -> TextMention:
    """The mention as the API and the page show it: decisions rendered as words."""
    found, attrs, section = counted.mention.found, counted.mention.attrs, counted.mention.section
    return TextMention.model_construct(
        finding=found.finding,
        text=found.span.text,
        start=found.start,
        end=found.end,
        negated=attrs.negated,
        uncertain=attrs.uncertain,
        historical=attrs.historical,
        hypothetical=attrs.hypothetical,
        experiencer=attrs.experiencer.value,
        section=section.heading if section is not None else attrs.section,
        section_role=counted.mention.role,
        region=pipe.resources.regions.get(found.finding),
        laterality=laterality(found.span, cues.sides),
        counted_as=counted.counted_as.value,
        reason=counted.reason.value,
        concepts=found.concepts,
        corrections=corrections(found.span, pipe),
    )


def _answers(stability: Stability, kb: KnowledgeBase) -> dict[str, bool]:
    """One answer per finding: present wins over absent; the long-standing finding is stability's
    to answer."""
    answers = answers_of(stability.mentions)
    answers.pop(kb.policy.long_standing_finding, None)
    if stability.answer is not None:
        answers[kb.policy.long_standing_finding] = stability.answer
    return answers


def _reading(
    text: str, mentions: list[TextMention], course: TimeCourse, around: Surroundings, pipe: TextPipeline
) -> TextReading:
    """Everything read, with notes on what the reading could not use."""
    age, sex = extract_demographics(text, pipe.resources.time_and_person)
    notes = [_PROXY] if around.proxy else []
    if not mentions:
        notes.append(_NOTHING_FOUND)
    return TextReading(
        characters=len(text),
        mentions=mentions,
        age=age.value if age else None,  # type: ignore[arg-type]
        age_text=age.text if age else None,
        sex=sex.value if sex else None,  # type: ignore[arg-type]
        sex_text=sex.text if sex else None,
        duration_days=course.duration_days,
        duration_text=course.duration.text if course.duration else None,
        onset=course.onset,
        notes=notes,
        resources_version=pipe.resources.version,
        resources_hash=pipe.resources.content_hash,
        language=pipe.resources.language,
    )


#: A text shorter than this is read whole: a message's sentences nearly all matter, and the
#: pre-pass would cost more than it saves (100-word texts: 6.0 -> 6.7 ms with it).
SKIM_FROM = 1000

#: Longer texts are read a piece at a time, cut at paragraph or sentence ends: ConText compares
#: every modifier with every mention in a doc, which is quadratic in a text's length.
PIECE_CHARS = 2000


def _read_in_pieces(pipe: TextPipeline, text: str, skim: bool = True) -> Iterator[tuple[int, Span]]:
    """(offset of the piece, mention) for every mention, piece by piece. A section heading
    does not reach across a cut; cuts fall at blank lines first, where sections usually end.
    With `skim`, only the windows of a piece the pre-pass picks are read (prepass.py)."""
    start = 0
    while start < len(text):
        end = _piece_end(text, start)
        piece = text[start:end]
        whole = [Window(0, len(piece))]
        windows = pipe.prepass.windows(piece) if skim and pipe.prepass and len(text) >= SKIM_FROM else whole
        found = None
        if windows != whole:
            found = _read_windows(pipe, piece, windows)
        if found is None:
            found = _read_whole(pipe, piece)
        for at, span in found:
            yield start + at, span
        start = end


def _read_whole(pipe: TextPipeline, piece: str) -> list[tuple[int, Span]]:
    doc = pipe(piece)  # kept alive while its spans are read
    return [(0, span) for span in doc.spans.get(SPAN_GROUP, [])]


#: Between a heading read first and its window: a paragraph break, a lone full stop and another,
#: so the window opens a sentence and no rule looking two words back reaches the heading.
_AFTER_HEADING = "\n\n.\n\n"


def _read_windows(pipe: TextPipeline, piece: str, windows: list[Window]) -> list[tuple[int, Span]] | None:
    """Mentions from each window, read under the section it starts in (its heading read first);
    None if a window's section is not the one the whole piece would give it (then the piece is
    read whole: the pre-pass may cost time, never a finding)."""
    found: list[tuple[int, Span]] = []
    section: tuple[str, str] | None = None  # (title, category) in force where a window starts
    lookbehind = pipe.prepass.lookbehind if pipe.prepass else 0
    for window in windows:
        prefix = section[0] + _AFTER_HEADING if section else ""
        before = lower_keeping_offsets(piece[max(0, window.start - lookbehind) : window.start])
        doc = pipe.read(prefix + piece[window.start : window.end], read_from=(len(prefix), before))
        own = next((t.i for t in doc if t.idx >= len(prefix)), len(doc))
        if not _opens_as(doc, own, section[1] if section else None):
            return None
        found.extend(
            (window.start - len(prefix), span)
            for span in doc.spans.get(SPAN_GROUP, [])
            if span.start_char >= len(prefix)
        )
        section = _section_after(doc, own, section)
    return found


def _opens_as(doc: Doc, own: int, category: str | None) -> bool:
    """The window's own text opens in the section expected (or with a heading of its own)."""
    if own >= len(doc):
        return True
    section = doc[own]._.section
    if section is not None and section.title_start == own and section.category is not None:
        return True
    return (section.category if section is not None else None) == category


def _section_after(doc: Doc, own: int, section: tuple[str, str] | None) -> tuple[str, str] | None:
    """The section in force after this window: its last heading's, unless that heading's reach
    is limited (the pre-pass reads all it may reach, so it has ended by the next window)."""
    headings = [s for s in doc._.sections if s.category is not None and s.title_start >= own]
    if not headings:
        return section
    last = headings[-1]
    if last.rule is not None and last.rule.max_scope is not None:
        return None
    return doc[last.title_start : last.title_end].text, last.category


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
