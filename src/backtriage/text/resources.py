"""Load and validate the text resources of a language: one folder of data, `text/data/<language>/`.

Like the knowledge base these are versioned data files, read by the one loader of data folders
(`knowledge/datafiles.py`) and checked on load: an unknown key, a pattern that does not compile, a
finding the knowledge base lacks, or an unknown ConText category is an error that names the file
and the entry. The folder's manifest names its language and spaCy's code for it; nothing in the
code is English.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backtriage.domain.note import NoteKind, SectionRole
from backtriage.errors import InvalidInputError, KnowledgeBaseError
from backtriage.knowledge.datafiles import read_data_folder, validate_many, validate_one
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.text.words import SentenceWords, TimeAndPersonWords

__all__ = [
    "ABSENT_SUFFIX",
    "CompositionSpec",
    "ConceptSpec",
    "ConceptVocabulary",
    "ContextRuleSpec",
    "Side",
    "TargetSpec",
    "TextResources",
    "load_text_resources",
    "shipped_languages",
]

_FRAGMENT = re.compile(r"\{([A-Z_]+)\}")

_UPPER_LITERAL = re.compile(r"(?<!\\)[A-Z]")

#: Target labels ending in this mark phrases that deny the finding ("afebrile" for fever).
ABSENT_SUFFIX = "__absent"

#: ConText categories and the span attribute each sets.
CONTEXT_CATEGORIES: dict[str, str | None] = {
    "NEGATED_EXISTENCE": "is_negated",
    "POSSIBLE_EXISTENCE": "is_uncertain",
    "HISTORICAL": "is_historical",
    "HYPOTHETICAL": "is_hypothetical",
    "FAMILY": "is_family",
    "OTHER_EXPERIENCER": "is_other_experiencer",
    # Markers that only end the scope of experiencer modifiers ("... and I have ...").
    "PATIENT_EXPERIENCER": None,
    "CONJ": None,
    "PSEUDO": None,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSpec(_Strict):
    region: str | None = None
    patterns: list[str] = Field(min_length=1)
    absent_patterns: list[str] = Field(
        default_factory=list,
        description="Phrases that by themselves say the finding is absent ('continent', 'afebrile').",
    )


class TextManifest(_Strict):
    name: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str | None = None
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the folder's language.")
    spacy_language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="spaCy's code for the blank pipeline and the lemma table; `language` when not given.",
    )
    medspacy_rules: bool = Field(
        default=True, description="Add medspaCy's own ConText and section rules for `language` to ours."
    )


class ConceptSequence(_Strict):
    """A concept made of other concepts in this order, at most `gap` words apart."""

    of: list[str] = Field(min_length=2)
    gap: int = Field(default=2, ge=0, le=5)


class ConceptSpec(_Strict):
    description: str | None = None
    words: list[str] = Field(default_factory=list, description="Matched on normalised words.")
    exact: list[str] = Field(default_factory=list, description="Matched on lower-cased words.")
    sequences: list[ConceptSequence] = Field(default_factory=list)


class CompositionSpec(_Strict):
    """A finding, as concepts that occur together in one clause."""

    all: list[str] = Field(min_length=1)
    none: list[str] = Field(default_factory=list)
    window: int = Field(default=10, ge=1, le=40, description="Most words from first to last.")
    denies: bool = Field(default=False, description="The combination says the finding is absent.")
    one_phrase: bool = Field(
        default=False, description="No comma between the parts ('bladder leaking, bowels normal')."
    )
    beside: list[str] = Field(
        default_factory=list, description="Concepts that rule the finding out when next to one of its words."
    )


class ProxySpec(_Strict):
    """Words that tell a text is written about a relative (see understand.py)."""

    openers: list[str] = Field(default_factory=list)
    relatives: list[str] = Field(min_length=1)
    own_body: list[str] = Field(min_length=1)
    #: Words for the relative in the third person ("he can't walk"): symptoms told of them.
    third_person: list[str] = Field(default_factory=list)
    #: Words that place what is told in the present ("today", "now").
    now: list[str] = Field(default_factory=list)
    #: The writer's word for their own body ("*my* legs are numb too").
    possessives: list[str] = Field(default_factory=list)
    #: Words after the relative that tell the past ("My dad *had* ..."): family history.
    past: list[str] = Field(default_factory=list)


Side = Literal["left", "right", "both"]


class ConceptVocabulary(_Strict):
    concepts: dict[str, ConceptSpec]
    findings: dict[str, list[CompositionSpec]]
    not_near: dict[str, list[str]] = Field(default_factory=dict)
    not_within: dict[str, list[str]] = Field(default_factory=dict)
    not_in_clause: dict[str, list[list[str]]] = Field(
        default_factory=dict,
        description="Finding -> groups of concepts; a mention sharing its clause with every concept "
        "of one group is dropped (numbness from a bike saddle that came back fine).",
    )
    proxy: ProxySpec | None = None
    only_current: list[str] = Field(default_factory=list)
    denial_links: list[str] = Field(
        default_factory=list, description="The only words allowed between the parts of a denial."
    )
    history_headings: list[str] = Field(default_factory=list)
    clause_breaks: list[str] = Field(default_factory=list)
    negators: list[str] = Field(default_factory=list)
    #: Negations as the tokenizer splits them off a word ("do" + "n't"), negating a denial.
    negator_tokens: list[str] = Field(default_factory=list)
    #: Negations that deny the noun after them ("no problems with my waterworks").
    determiner_negators: list[str] = Field(default_factory=list)
    #: A verb's negation that may stand before its object pronouns ("no me duele": "no"), and those
    #: pronouns ("me", "le", "se"): with only pronouns between them, it negates the mention after.
    verb_negators: list[str] = Field(default_factory=list)
    clitics: list[str] = Field(default_factory=list)
    #: Words of inability that open a symptom ("can't keep an erection"): its own negation.
    inability: list[str] = Field(default_factory=list)
    known_words: list[str] = Field(default_factory=list)
    correct_to: list[str] = Field(default_factory=list)
    respell: dict[str, str] = Field(default_factory=dict)
    #: Shorthand kept as one word by the tokenizer ("b/l", "w/"), so it can be respelt.
    whole_words: list[str] = Field(default_factory=list)
    lemmas: dict[str, str] = Field(default_factory=dict)
    #: Contractions and shorthand as the tokenizer splits them ("ca" + "n't" -> can not).
    contractions: dict[str, str] = Field(default_factory=dict)
    #: Clipped ending -> full ending ("walkin" -> "walking", when that is a word).
    clipped_endings: dict[str, str] = Field(default_factory=dict)
    #: Words that name a side ("L foot drop", "both legs").
    sides: dict[Side, list[str]] = Field(default_factory=dict)


class Lexicon(_Strict):
    vocabulary: dict[str, str] = Field(default_factory=dict)
    vocabulary_note: str | None = None
    targets: dict[str, TargetSpec]


class ContextRuleSpec(_Strict):
    """One ConText rule, in medspaCy's JSON shape (plus an optional ``max_scope``)."""

    category: str
    literal: str = Field(min_length=1)
    direction: str
    pattern: list[dict[str, Any]] | str | None = None
    max_scope: int | None = Field(default=None, ge=1)
    terminated_by: list[str] | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CONTEXT_CATEGORIES:
            raise ValueError(f"unknown ConText category '{value}'")
        return value

    @field_validator("direction")
    @classmethod
    def _known_direction(cls, value: str) -> str:
        if value not in ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"):
            raise ValueError(f"unknown ConText direction '{value}'")
        return value


class NoteKindSpec(_Strict):
    kind: NoteKind
    headings: list[str] = Field(min_length=1)
    titles: list[str] = Field(default_factory=list, description="Words of a title at the top of the note.")


class NoteLayoutSpec(_Strict):
    """Section headings by role, and the headings that tell a note's kind (note_layout.yaml)."""

    min_headings: int = Field(ge=1)
    plural_marks: list[str] = Field(
        default_factory=list, description="Plural endings in brackets after a heading ('(es)')."
    )
    long_note_chars: int = Field(ge=1)
    min_headings_long_note: int = Field(ge=1)
    title_chars: int = Field(ge=0, description="How far into a note its title is looked for.")
    sections: dict[SectionRole, list[str]]
    subheadings: list[str] = Field(default_factory=list)
    kinds: list[NoteKindSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_heading_once(self) -> NoteLayoutSpec:
        seen: dict[str, SectionRole] = {}
        for role, headings in self.sections.items():
            for heading in headings:
                if heading != heading.lower() or heading.strip() != heading:
                    raise ValueError(f"heading '{heading}': write headings in lower case, trimmed")
                if heading in seen:
                    raise ValueError(f"heading '{heading}' is under both '{seen[heading]}' and '{role}'")
                seen[heading] = role
        unknown = [h for k in self.kinds for h in k.headings if h not in seen]
        if unknown:
            raise ValueError(f"kinds name headings no section lists: {', '.join(unknown)}")
        return self

    @cached_property
    def role_of(self) -> dict[str, SectionRole]:
        """Heading -> the role of its section."""
        return {h: role for role, headings in self.sections.items() for h in headings}

    @cached_property
    def subheading_set(self) -> frozenset[str]:
        return frozenset(self.subheadings)


class SectionRuleSpec(_Strict):
    category: str = Field(pattern=r"^[a-z_]+$")
    literal: str = Field(min_length=1)
    pattern: list[dict[str, Any]] | str | None = None
    max_scope: int | None = Field(default=None, ge=1, description="Longest section, in tokens.")


ActionLevel = Literal["emergency", "urgent", "routine"]


class ActionWords(_Strict):
    """actions.yaml, less its `actions` (read entry by entry): the words around an action."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    by_note_kind: dict[NoteKind, ActionLevel] = Field(default_factory=dict)
    plan_headings: list[str] = Field(default_factory=list, description="Headings of a plan ('Plan:').")
    conditions: list[str] = Field(default_factory=list, description="'... if it gets worse'.")
    safety_net: list[str] = Field(default_factory=list, description="'S/N: ...', 'knows to ...'.")
    clause_breaks: list[str] = Field(default_factory=list, description="Words that end a clause ('but').")


@dataclass(frozen=True)
class ActionSpec(_Strict):
    """One kind of action a clinical note can document, at the level of care it gives."""

    level: ActionLevel
    name: str = Field(min_length=3)
    sources: list[str] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class TextResources:
    """Everything one language folder holds, checked."""

    version: str
    content_hash: str
    language: str
    spacy_language: str
    medspacy_rules: bool
    targets: dict[str, list[str]]  # label -> regular expressions; see ABSENT_SUFFIX
    regions: dict[str, str]  # finding id -> body region
    concepts: ConceptVocabulary
    context_rules: tuple[ContextRuleSpec, ...]
    replaced_default_context: frozenset[str]  # medspaCy default literals we redefine
    section_rules: tuple[SectionRuleSpec, ...]
    layout: NoteLayoutSpec
    sentences: SentenceWords
    time_and_person: TimeAndPersonWords
    #: ConText cues said after what they deny ("MRI negative"), never about the next item of a list.
    said_after: frozenset[str] = frozenset()
    actions: tuple[ActionSpec, ...] = ()  # what a note says was done (`backtriage screen`)
    #: The action a note documents by being what it is (an operative note: an operation).
    action_by_note_kind: dict[NoteKind, ActionLevel] = dataclass_field(default_factory=dict)
    action_words: ActionWords = dataclass_field(default_factory=ActionWords)


def data_dir(language: str = "en") -> Path:
    """The folder of one language's text resources; a language is a folder of data."""
    return Path(str(resources.files("backtriage.text") / "data" / language))


def shipped_languages() -> list[str]:
    """The languages the package has a text folder for (a folder with a manifest)."""
    root = data_dir().parent
    return sorted(p.name for p in root.iterdir() if (p / "manifest.yaml").is_file())


#: file name -> (required top-level keys, optional keys)
TEXT_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "manifest.yaml": (("manifest",), ()),
    "lexicon.yaml": (("targets",), ("vocabulary", "vocabulary_note")),
    # the vocabulary's model says which keys it takes (it rejects any other)
    "concepts.yaml": (("concepts", "findings"), tuple(ConceptVocabulary.model_fields)),
    "context_rules.json": (("context_rules",), ("replace_defaults", "said_after")),
    "section_rules.json": (("section_rules",), ()),
    "actions.yaml": (("actions",), tuple(ActionWords.model_fields)),
    "note_layout.yaml": (
        ("min_headings", "long_note_chars", "min_headings_long_note", "title_chars", "sections"),
        ("subheadings", "kinds", "plural_marks"),
    ),
    "sentences.yaml": ((), tuple(SentenceWords.model_fields)),
    "age_sex_and_time.yaml": (("durations",), tuple(TimeAndPersonWords.model_fields)),
}


@lru_cache(maxsize=8)
def _shipped(language: str) -> TextResources:
    if language not in shipped_languages():
        raise InvalidInputError(f"no text resources for the language '{language}'")
    return _load(data_dir(language), load_knowledge_base())


def load_text_resources(
    folder: str | Path | None = None, kb: KnowledgeBase | None = None, *, language: str | None = None
) -> TextResources:
    """The text resources of a folder, or of a shipped language (`language`, default English:
    the folder `text/data/<language>/`; loaded once per process)."""
    if folder is not None and language is not None:
        raise ValueError("give a folder or a language, not both")
    if folder is None and kb is None:
        return _shipped(language or "en")
    return _load(Path(folder) if folder else data_dir(language or "en"), kb or load_knowledge_base())


def _load(folder: Path, kb: KnowledgeBase) -> TextResources:
    data = read_data_folder(folder, TEXT_FILES)
    problems: list[str] = []
    files = _validate(data.files, problems)
    if files is None:
        raise KnowledgeBaseError(problems)
    manifest, concepts = files.manifest, files.concepts
    problems.extend(_check_actions(files.actions, kb))
    targets, regions = _compile_lexicon(files.lexicon, kb, problems, manifest.language)
    problems.extend(_check_concepts(concepts, kb))
    if problems:
        raise KnowledgeBaseError(problems)
    return TextResources(
        version=manifest.version,
        content_hash=data.content_hash,
        language=manifest.language,
        spacy_language=manifest.spacy_language or manifest.language,
        medspacy_rules=manifest.medspacy_rules,
        targets=targets,
        regions=regions,
        concepts=concepts,
        context_rules=tuple(files.context_rules),
        replaced_default_context=frozenset(x.lower() for x in files.replaced),
        section_rules=tuple(files.section_rules),
        layout=files.layout,
        sentences=files.sentences,
        time_and_person=files.time_and_person,
        said_after=frozenset(x.lower() for x in files.said_after),
        actions=tuple(files.actions),
        action_by_note_kind=dict(files.action_words.by_note_kind),
        action_words=files.action_words,
    )


@dataclass(frozen=True)
class _Files:
    """Every file of a folder in its typed shape."""

    manifest: TextManifest
    lexicon: Lexicon
    concepts: ConceptVocabulary
    context_rules: list[ContextRuleSpec]
    replaced: list[str]
    said_after: list[str]
    section_rules: list[SectionRuleSpec]
    layout: NoteLayoutSpec
    sentences: SentenceWords
    time_and_person: TimeAndPersonWords
    actions: list[ActionSpec]
    action_words: ActionWords


def _validate(raw: dict[str, dict[str, Any]], problems: list[str]) -> _Files | None:
    """Each file as its model; None when any does not fit (its problems added)."""
    context, actions = raw["context_rules.json"], raw["actions.yaml"]
    manifest = validate_one(
        TextManifest, raw["manifest.yaml"]["manifest"], "manifest.yaml: manifest", problems
    )
    lexicon = validate_one(Lexicon, raw["lexicon.yaml"], "lexicon.yaml", problems)
    concepts = validate_one(ConceptVocabulary, raw["concepts.yaml"], "concepts.yaml", problems)
    layout = validate_one(NoteLayoutSpec, raw["note_layout.yaml"], "note_layout.yaml", problems)
    sentences = validate_one(SentenceWords, raw["sentences.yaml"], "sentences.yaml", problems)
    time_and_person = validate_one(
        TimeAndPersonWords, raw["age_sex_and_time.yaml"], "age_sex_and_time.yaml", problems
    )
    action_words = validate_one(ActionWords, actions, "actions.yaml", problems)
    context_rules = validate_many(
        ContextRuleSpec, context["context_rules"], "context_rules.json", "context_rules", problems
    )
    section_rules = validate_many(
        SectionRuleSpec,
        raw["section_rules.json"]["section_rules"],
        "section_rules.json",
        "section_rules",
        problems,
    )
    action_specs = validate_many(ActionSpec, actions["actions"], "actions.yaml", "actions", problems)
    replaced, said_after = (_literals(context, key, problems) for key in ("replace_defaults", "said_after"))
    if (
        problems
        or manifest is None
        or lexicon is None
        or concepts is None
        or layout is None
        or sentences is None
        or time_and_person is None
        or action_words is None
    ):
        return None
    return _Files(
        manifest,
        lexicon,
        concepts,
        context_rules,
        replaced,
        said_after,
        section_rules,
        layout,
        sentences,
        time_and_person,
        action_specs,
        action_words,
    )


def _literals(context: dict[str, Any], key: str, problems: list[str]) -> list[str]:
    """A list of ConText literals in context_rules.json (`replace_defaults`, `said_after`)."""
    literals = context.get(key, [])
    if not isinstance(literals, list) or not all(isinstance(x, str) for x in literals):
        problems.append(f"context_rules.json: {key} must be a list of literals")
        return []
    return literals


def _check_actions(actions: list[ActionSpec], kb: KnowledgeBase) -> list[str]:
    problems: list[str] = []
    for action in actions:
        where = f"actions.yaml: '{action.name}'"
        problems.extend(f"{where}: unknown source '{s}'" for s in action.sources if s not in kb.sources)
        for pattern in action.patterns:
            if pattern != pattern.lower():
                problems.append(f"{where}: write patterns in lower case")
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}: pattern does not compile ({exc})")
    return problems


def _compile_lexicon(
    lexicon: Lexicon, kb: KnowledgeBase, problems: list[str], language: str
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """`_expand_lexicon`, kept on disk between runs (checking that ~300 patterns compile is a
    third of a second of every start); the key holds all it depends on."""
    from backtriage.cache import cached_json

    known = {fid: kb.findings[fid].derived_from is not None for fid in lexicon.targets if fid in kb.findings}
    source = json.dumps([lexicon.model_dump(mode="json"), known], sort_keys=True)

    def expand() -> dict[str, Any]:
        found: list[str] = []
        targets, regions = _expand_lexicon(lexicon, kb, found)
        return {"targets": targets, "regions": regions, "problems": found}

    result = cached_json("lexicon", source, expand, language=language)
    problems.extend(result["problems"])
    return result["targets"], result["regions"]


def _expand_lexicon(
    lexicon: Lexicon, kb: KnowledgeBase, problems: list[str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Pattern lexicon -> label -> anchored regular expressions; body region per finding."""
    targets: dict[str, list[str]] = {}
    regions: dict[str, str] = {}
    for fid, spec in lexicon.targets.items():
        if fid not in kb.findings:
            problems.append(f"lexicon.yaml: '{fid}' is not a finding in the knowledge base")
            continue
        if kb.findings[fid].derived_from is not None:
            problems.append(f"lexicon.yaml: '{fid}' is derived from age or sex, not read from text")
        for label, patterns in ((fid, spec.patterns), (fid + ABSENT_SUFFIX, spec.absent_patterns)):
            expanded = [
                p
                for p in (_expand(fid, pattern, lexicon.vocabulary, problems) for pattern in patterns)
                if p is not None
            ]
            if expanded:
                targets[label] = expanded
        if spec.region:
            regions[fid] = spec.region
    return targets, regions


def _expand(fid: str, pattern: str, fragments: dict[str, str], problems: list[str]) -> str | None:
    try:
        text = _FRAGMENT.sub(lambda m: fragments[m.group(1)], pattern)
        re.compile(text)
    except KeyError as exc:
        problems.append(f"lexicon.yaml: '{fid}': unknown fragment {{{exc.args[0]}}}")
        return None
    except re.error as exc:
        problems.append(f"lexicon.yaml: '{fid}': pattern does not compile ({exc})")
        return None
    if _UPPER_LITERAL.search(text):
        problems.append(
            f"lexicon.yaml: '{fid}': write patterns in lower case; they are matched against lower-cased text"
        )
        return None
    return rf"(?<![\w/])(?:{text})(?![\w])"


def _check_concepts(vocabulary: ConceptVocabulary, kb: KnowledgeBase) -> list[str]:
    """Every finding is in the knowledge base and every concept named is defined."""
    problems: list[str] = []
    known = set(vocabulary.concepts)

    def need(where: str, names: list[str]) -> None:
        problems.extend(f"concepts.yaml: {where}: unknown concept '{n}'" for n in names if n not in known)

    for name, concept in vocabulary.concepts.items():
        if not (concept.words or concept.exact or concept.sequences):
            problems.append(f"concepts.yaml: concept '{name}' has no words")
        for seq in concept.sequences:
            need(f"concept '{name}'", seq.of)
    named: list[tuple[str, str, list[str]]] = [
        (fid, f"finding '{fid}'", comp.all + comp.none + comp.beside)
        for fid, comps in vocabulary.findings.items()
        for comp in comps
    ]
    for key, table in (("not_near", vocabulary.not_near), ("not_within", vocabulary.not_within)):
        named.extend((fid, f"{key}: '{fid}'", names) for fid, names in table.items())
    named.extend(
        (fid, f"not_in_clause: '{fid}'", [c for g in groups for c in g])
        for fid, groups in vocabulary.not_in_clause.items()
    )
    named.extend((fid, "only_current", []) for fid in vocabulary.only_current)
    for fid, where, names in named:
        if fid not in kb.findings:
            problems.append(f"concepts.yaml: {where}: '{fid}' is not a finding in the knowledge base")
        need(where, names)
    for name, concept in vocabulary.concepts.items():
        problems.extend(
            f"concepts.yaml: concept '{name}': write exact phrases in lower case ('{p}')"
            for p in concept.exact
            if p != p.lower()
        )
    return problems
