"""The spaCy/medspaCy pipeline that reads back-symptom text.

    tokenizer      medspaCy's clinical tokenizer (keeps "x2/52", "45M", "L5/S1" sensible)
    sentences      a small rule-based splitter: ". ! ?", semicolons and line breaks
    concepts       our concept vocabulary: normalised words -> concepts -> findings, see
                   concepts.py (the main reader)
    targets        our pattern lexicon (regular expressions -> finding ids), see targets.py,
                   for phrases that cannot be composed
    sections       medspaCy Sectionizer (its rules plus ours: "PMH:", "FHx:", "Plan:", ...)
    context        medspaCy ConText (its rules plus ours), extended with an 'other person'
                   experiencer

Why not `medspacy.load()`: its PyRuSH sentence splitter dominates the cost and logs sentence
text at DEBUG level; clinical notes split well enough on punctuation and line breaks. Nothing here
downloads anything: spaCy starts from a blank pipeline of the language folder's spaCy code
(manifest.yaml), and every word the steps use comes from that folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import re
import threading
import warnings
from dataclasses import dataclass

import numpy
import spacy
from medspacy.context import ConText, ConTextRule
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from medspacy.section_detection import Sectionizer, SectionRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from backtriage.text.concepts import ConceptReader
from backtriage.text.layout import LETTER
from backtriage.text.prepass import PrePass
from backtriage.text.resources import CONTEXT_CATEGORIES, TextResources, load_text_resources
from backtriage.text.targets import READ_FROM, TargetRules, longest_per_label

__all__ = ["SAID_AFTER", "SPAN_GROUP", "TextPipeline", "default_pipeline"]

SPAN_GROUP = "backtriage_mentions"
#: ConText rule metadata: the cue is said after what it denies ("MRI negative"; context.py).
SAID_AFTER = "said_after"

# medspaCy keeps a token Matcher and a PhraseMatcher per component; when all rules of a
# component are of one kind the other stays empty and spaCy warns (W036) on every call.
warnings.filterwarnings("ignore", message=r"\[W036\]", category=UserWarning)
_BREAKS = {".", "!", "?", ";"}

_silenced = False


def _silence_third_party_logging() -> None:
    """No patient text in any log: PyRuSH (pulled in by medspaCy) logs sentences at DEBUG."""
    global _silenced
    if _silenced:
        return
    try:
        from loguru import logger

        logger.disable("PyRuSH")
        logger.disable("medspacy")
    except ImportError:  # pragma: no cover - loguru comes with medspaCy today
        pass
    for name in ("medspacy", "PyRuSH", "spacy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _silenced = True


class _Sentences:
    """Pipeline step: sentence starts, with the language's abbreviations (a full stop that does not
    end a sentence: "Dr. Smith") and a form's answers ("Saddle anaesthesia? No.": one sentence)."""

    def __init__(self, abbreviations: list[str], answers: list[str]) -> None:
        self.abbreviations = frozenset(abbreviations)
        self.answers = frozenset(answers)

    def __call__(self, doc: Doc) -> Doc:
        return _split_sentences(doc, self.abbreviations, self.answers)


@Language.factory("backtriage_sentences", default_config={"abbreviations": [], "answers": []})
def _make_sentences(nlp, name, abbreviations, answers):  # type: ignore[no-untyped-def]
    return _Sentences(abbreviations, answers)  # no annotations: see _make_targets


def _split_sentences(doc: Doc, abbreviations: frozenset[str], answers: frozenset[str]) -> Doc:
    """Sentence starts after . ! ? ;, at blank lines and at lines that open a list item or a
    heading, before an upper-case heading ("IMPRESSION:") and at numbered items ("2)")."""
    n = len(doc)
    texts = [t.text for t in doc]
    upper = [t.is_upper for t in doc]
    starts = {0}
    for i, text in enumerate(texts):
        if text in _BREAKS and i + 1 < n:
            query = text == "?" and not doc[i].whitespace_ and doc[i + 1].is_alpha  # "?CES"
            answered = text == "?" and texts[i + 1].lower() in answers  # "Saddle anaesthesia? No."
            if not (query or answered):
                starts.add(i + 1)
        elif (
            "\n" in text
            and i + 1 < n
            and (
                text.count("\n") > 1
                or _starts_line_item(doc, i + 1)
                or _ends_headed_line(doc, i)
                or (doc[i + 1].is_title and doc[i + 1].is_alpha)
            )
        ):
            # A blank line, a new line that opens a list item, a heading or a capitalised word, or
            # the end of a line that was a heading with its content ("PMH: nil"). A single line
            # break before a lower-case word is just wrapping ("... no\nbladder symptoms").
            starts.add(i + 1)
        elif _ends_on_a_stop(doc, i, abbreviations):
            starts.add(i + 1)  # "No recent D&V. 3/52 tingling ...": the stop is inside the token
        elif text.isdigit() and len(text) <= 2 and i + 1 < n and texts[i + 1] == ")":
            starts.add(i)
        elif text == ":" and i > 1 and upper[i - 1] and len(texts[i - 1]) > 1:
            j = i - 1  # walk back over the heading: "POSTOPERATIVE DIAGNOSIS(ES):"
            while j > 0 and (upper[j - 1] or texts[j - 1] in "()/&-"):
                j -= 1
            starts.add(j)
    # One array write: setting token.is_sent_start one by one re-checks the whole doc each time
    # (quadratic in the number of tokens).
    flags = numpy.array([1 if i in starts else -1 for i in range(n)], dtype="int32").reshape(-1, 1)
    doc.from_array(["SENT_START"], flags.astype("uint64"))  # type: ignore[arg-type]
    return doc


def _ends_on_a_stop(doc: Doc, i: int, abbreviations: frozenset[str]) -> bool:
    """A short token that keeps its full stop ("V.", "pt.") ends a sentence when a number or a
    capitalised word follows, unless it is a title or abbreviation ("Dr. Smith", "vs. S1")."""
    text = doc[i].text
    if len(text) < 2 or not text.endswith(".") or i + 1 >= len(doc) or not doc[i].whitespace_:
        return False
    following = doc[i + 1].text
    return (following[:1].isdigit() or following[:1].isupper()) and text[:-1].lower() not in abbreviations


#: A short line that opens with a heading and holds its content ("PMH: nil").
HEADED_LINE = re.compile(rf"[ \t]*[{LETTER}][{LETTER}/ &()-]{{0,30}}:[^\n]{{0,40}}$")


def _ends_headed_line(doc: Doc, i: int) -> bool:
    """Token i (a line break) ends a short line that opens with a heading ("PMH: nil")."""
    text = doc.text
    end = doc[i].idx
    start = text.rfind("\n", 0, end) + 1
    return HEADED_LINE.match(text, start, end) is not None


def _starts_line_item(doc: Doc, i: int) -> bool:
    token = doc[i]
    if token.text in ("-", "*", "•", "·") or (
        token.text.isdigit() and i + 1 < len(doc) and doc[i + 1].text in (")", ".")
    ):
        return True
    # "Plan:", "PMH -", "O/E:" within the first four tokens of the line
    for j in range(i, min(i + 4, len(doc))):
        if doc[j].text in (":",) or "\n" in doc[j].text:
            return doc[j].text == ":"
    return False


class _Targets:
    """Pipeline step: concept and pattern mentions into ``doc.spans[span_group]``."""

    def __init__(self, span_group: str, language: str) -> None:
        self.span_group = span_group
        self.rules = TargetRules({}, language=language)  # until the pipeline's are set
        self.concepts: ConceptReader | None = None

    def __call__(self, doc: Doc) -> Doc:
        if self.concepts is None:
            doc.spans[self.span_group] = self.rules.find(doc)
            return doc
        hits = self.concepts.hits(doc)
        spans = self.rules.find(doc, self.concepts.corrected_text(doc))
        spans = longest_per_label(spans + self.concepts.mentions(doc, hits))
        doc.spans[self.span_group] = self.concepts.drop_excluded(spans, hits)
        return doc


@Language.factory("backtriage_targets", default_config={"span_group": "backtriage_mentions"})
def _make_targets(nlp, name, span_group):  # type: ignore[no-untyped-def]
    # No annotations: spaCy validates factory arguments from them, and postponed annotations
    # (from __future__) would reach it as unresolved strings.
    return _Targets(span_group, nlp.lang)


def _context_span_attributes() -> dict[str, dict[str, bool]]:
    for attr in ("is_other_experiencer",):
        if not Span.has_extension(attr):
            Span.set_extension(attr, default=False)
    if not Span.has_extension("concepts"):
        Span.set_extension("concepts", default=None)
    if not Span.has_extension("negated_within"):
        Span.set_extension("negated_within", default=False)
    mapping: dict[str, dict[str, bool]] = {}
    for category, span_attr in CONTEXT_CATEGORIES.items():
        if span_attr is not None:
            mapping[category] = {span_attr: True}
    return mapping


_MAX_VARIANTS = 300


def _as_phrases(rule: ConTextRule) -> list[ConTextRule]:
    """Rewrite a token-pattern rule that only lists lower-case words as phrase rules."""
    pattern = rule.pattern
    if not isinstance(pattern, list):
        return [rule]
    variants = [""]
    for token in pattern:
        if set(token) - {"LOWER", "OP"} or token.get("OP") not in (None, "?"):
            return [rule]
        value = token["LOWER"]
        if isinstance(value, str):
            words = [value]
        elif isinstance(value, dict) and set(value) == {"IN"}:
            words = list(value["IN"])
        else:
            return [rule]
        if token.get("OP") == "?":
            words.append("")
        variants = [f"{v} {w}".strip() for v in variants for w in words]
        if len(variants) > _MAX_VARIANTS:
            return [rule]
    return [
        ConTextRule(
            literal=v,
            category=rule.category,
            direction=rule.direction,
            max_scope=rule.max_scope,
            max_targets=rule.max_targets,
            terminated_by=set(rule.terminated_by),
            allowed_types=rule.allowed_types,
            excluded_types=rule.excluded_types,
        )
        for v in dict.fromkeys(variants)
        if v
    ]


def _set_tokenizer(nlp: Language, res: TextResources) -> None:
    """medspaCy's clinical tokenizer, keeping the vocabulary's shorthand whole ("b/l", "w/")."""
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    for word in res.concepts.whole_words:
        for form in {word, word.upper(), word.capitalize()}:
            nlp.tokenizer.add_special_case(form, [{"ORTH": form}])
    # "?CES", "?HZ": a leading question mark is the clinicians' "query"; split it off so
    # ConText can see it. "↓PP", "↑tone": arrows are words of their own.
    prefixes = nlp.tokenizer.prefix_search.__self__.pattern
    nlp.tokenizer.prefix_search = re.compile(r"\?(?=\w)|[\u2193\u2191](?=\w)|" + prefixes).search


def _add_sectionizer(nlp: Language, res: TextResources) -> Sectionizer:
    """medspaCy's Sectionizer with its own rules for the language (if the folder asks for them)
    and ours."""
    sectionizer: Sectionizer = nlp.add_pipe(
        "medspacy_sectionizer",
        config={
            "input_span_type": "group",
            "span_group_name": SPAN_GROUP,
            "language_code": res.language,
            "rules": "default" if res.medspacy_rules else None,
            # A past-history heading makes only its own line and list historical
            # (understand.py), so the Sectionizer does not mark whole sections historical;
            # medspaCy's defaults also file "HISTORY:" and "CLINICAL HISTORY:" (the reason for
            # a visit or a scan) under past history.
            "span_attrs": {
                "family_history": {"is_family": True},
                "patient_instructions": {"is_hypothetical": True},
                "education": {"is_hypothetical": True},
            },
        },
    )
    sectionizer.add(
        [
            SectionRule(literal=r.literal, category=r.category, pattern=r.pattern, max_scope=r.max_scope)
            for r in res.section_rules
        ]
    )
    return sectionizer


def _add_context(nlp: Language, res: TextResources) -> ConText:
    """medspaCy ConText with its default rules for the language (if the folder asks for them),
    less the few we redefine, then ours; token patterns that only list lower-case words become
    phrase rules (same matches, far less work per token). Cues said after what they deny are
    marked (`SAID_AFTER`)."""
    context: ConText = nlp.add_pipe(
        "medspacy_context",
        config={
            "input_span_type": "group",
            "span_group_name": SPAN_GROUP,
            "span_attrs": _context_span_attributes(),
            "rules": None,
            "language_code": res.language,
            # medspaCy's own overlap test misses a modifier wholly inside a target
            # ("supple, no lymphadenopathy"); pruning on overlap handles that case.
            "prune_on_target_overlap": True,
        },
    )
    defaults = [
        rule
        for rule in (ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH) if res.medspacy_rules else [])
        if rule.literal.lower() not in res.replaced_default_context
    ]
    ours = [
        ConTextRule(
            literal=r.literal,
            category=r.category,
            direction=r.direction,
            pattern=r.pattern,
            max_scope=r.max_scope,
            terminated_by=set(r.terminated_by or ()),
        )
        for r in res.context_rules
    ]
    rules = [phrase for rule in defaults + ours for phrase in _as_phrases(rule)]
    for rule in rules:
        if rule.literal.lower() in res.said_after:
            rule.metadata = {**(rule.metadata or {}), SAID_AFTER: True}
    context.add(rules)
    return context


@dataclass
class TextPipeline:
    """A built pipeline and the components the rest of the package calls directly."""

    nlp: Language
    resources: TextResources
    concepts: ConceptReader
    prepass: PrePass | None = None  # None: every sentence is read

    @classmethod
    def build(cls, resources: TextResources | None = None, *, language: str = "en") -> TextPipeline:
        """The pipeline of `resources`, or of the shipped folder of `language`."""
        _silence_third_party_logging()
        res = resources or load_text_resources(language=language)
        nlp = spacy.blank(res.spacy_language)
        _set_tokenizer(nlp, res)
        sentences = res.sentences
        nlp.add_pipe(
            "backtriage_sentences",
            config={"abbreviations": sentences.abbreviations, "answers": sentences.answers},
        )
        nlp.add_pipe("backtriage_targets", config={"span_group": SPAN_GROUP})
        targets = nlp.get_pipe("backtriage_targets")
        targets.rules = TargetRules(res.targets, res.concepts.negators, res.language)  # type: ignore[attr-defined]
        reader = ConceptReader(res.concepts, nlp, res.language)
        targets.concepts = reader  # type: ignore[attr-defined]
        sectionizer = _add_sectionizer(nlp, res)
        _add_context(nlp, res)
        headings = [
            ([t.lower_ for t in nlp.tokenizer(rule.literal)], rule.max_scope) for rule in sectionizer.rules
        ]
        prepass = PrePass(nlp.tokenizer, reader, targets.rules, headings, HEADED_LINE)  # type: ignore[attr-defined]
        return cls(nlp=nlp, resources=res, concepts=reader, prepass=prepass)

    def __call__(self, text: str) -> Doc:
        return self.nlp(text)

    def read(self, text: str, read_from: tuple[int, str]) -> Doc:
        """Read a window of a longer text: its own text starts at character `read_from[0]` (a
        heading may come first) and `read_from[1]` is what stood before it there."""
        doc = self.nlp.make_doc(text)
        doc.user_data[READ_FROM] = read_from
        for _, component in self.nlp.pipeline:
            doc = component(doc)
        return doc

    @property
    def context(self) -> ConText:
        context: ConText = self.nlp.get_pipe("medspacy_context")
        return context


#: spaCy keeps every string it has seen for the life of a pipeline, so a server reading words it
#: has never met grows without end. Past this many new strings the shipped pipeline is rebuilt
#: (about half a second), which bounds the memory the vocabulary can take.
MAX_NEW_STRINGS = 50_000


def limit_vocabulary_growth(strings: int) -> None:
    """Rebuild the shipped pipeline after this many new strings instead (a batch worker reading
    millions of notes keeps its memory flat with a lower limit)."""
    global MAX_NEW_STRINGS
    MAX_NEW_STRINGS = strings


_shipped: dict[str, tuple[TextPipeline, int]] = {}
_shipped_lock = threading.Lock()


def default_pipeline(language: str = "en") -> TextPipeline:
    """The shipped pipeline of a language (its folder `text/data/<language>/`), built once per
    process and rebuilt when its vocabulary has grown by `MAX_NEW_STRINGS`. A text being read
    keeps the pipeline it started with."""
    with _shipped_lock:
        if language in _shipped:
            pipe, base = _shipped[language]
            if len(pipe.nlp.vocab.strings) - base <= MAX_NEW_STRINGS:
                return pipe
        rebuilt = language in _shipped
        pipe = TextPipeline.build(language=language)
        _shipped[language] = (pipe, len(pipe.nlp.vocab.strings))
    if rebuilt:
        _return_freed_memory()
    return pipe


def _return_freed_memory() -> None:
    """Free the replaced pipeline now and hand its memory back to the system: spaCy's strings
    live in C allocations that the C library otherwise keeps for the process, so a server that
    reads millions of new words would keep growing even though each pipeline is dropped."""
    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the memory is reused by the process instead
