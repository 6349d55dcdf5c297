"""ConText attributes of a phrase in a sentence: the same ConText the pipeline uses.

`context_of` lets a user (or the NegEx evaluation) ask "in this sentence, is this phrase negated,
uncertain, historical, hypothetical, or about someone else?" without needing a lexicon entry for
the phrase.
"""

from __future__ import annotations

import re
from enum import StrEnum

from medspacy.context import ConTextModifier
from pydantic import BaseModel, ConfigDict
from spacy.tokens import Span

from backtriage.errors import InvalidInputError
from backtriage.text.concepts import clause_of
from backtriage.text.pipeline import SAID_AFTER, SPAN_GROUP, TextPipeline, default_pipeline

__all__ = ["ContextAttributes", "Experiencer", "attributes_of", "context_of"]


class Experiencer(StrEnum):
    PATIENT = "patient"
    FAMILY = "family"
    OTHER = "other"


class ContextAttributes(BaseModel):
    """What ConText concluded about one mention."""

    model_config = ConfigDict(frozen=True)

    negated: bool
    uncertain: bool
    historical: bool
    hypothetical: bool
    experiencer: Experiencer
    section: str | None = None


def attributes_of(span: Span) -> ContextAttributes:
    family = bool(span._.is_family)
    other = bool(span._.is_other_experiencer)
    section = getattr(span._, "section_category", None)
    return ContextAttributes.model_construct(
        negated=bool(span._.is_negated) and not _negation_in_another_clause(span),
        uncertain=bool(span._.is_uncertain),
        historical=bool(span._.is_historical),
        hypothetical=bool(span._.is_hypothetical),
        experiencer=Experiencer.FAMILY if family else Experiencer.OTHER if other else Experiencer.PATIENT,
        section=section,
    )


def context_of(
    sentence: str, target: str, pipeline: TextPipeline | None = None, *, language: str = "en"
) -> ContextAttributes:
    """ConText attributes of ``target`` (found case- and spacing-insensitively) in ``sentence``,
    read by `pipeline`, else by the shipped pipeline of `language`."""
    if not target.strip():
        raise InvalidInputError("target phrase is empty")
    words = target.split()
    match = re.search(r"\W+".join(re.escape(w) for w in words), sentence, flags=re.IGNORECASE)
    if match is None:
        raise InvalidInputError(f"target phrase '{target}' does not occur in the sentence")
    pipe = pipeline or default_pipeline(language)
    nlp = pipe.nlp
    doc = nlp.make_doc(sentence)
    doc = nlp.get_pipe("backtriage_sentences")(doc)
    span = doc.char_span(match.start(), match.end(), label="TARGET", alignment_mode="expand")
    assert span is not None
    doc.spans[SPAN_GROUP] = [span]
    doc = nlp.get_pipe("medspacy_sectionizer")(doc)
    doc = pipe.context(doc)
    return attributes_of(doc.spans[SPAN_GROUP][0])


def _negation_in_another_clause(span: Span) -> bool:
    """True when every negation ConText applied lies in another clause than the mention: ConText's
    scope runs to the end of the sentence, past "but" in "it wasn't bad but I can't feel when I
    wipe". Clauses are the concept reader's (sentences, "but", "however", ";" ...); without them
    (a bare ConText query) ConText's answer stands."""
    here = clause_of(span.doc, span.start)
    if here is None:
        return False
    negations = [m for m in span._.modifiers if m.category == "NEGATED_EXISTENCE"]
    # A cue after the mention ("Saddle anaesthesia? No.", "numb bum - no") answers it, even
    # though the answer opens a clause of its own.
    # A cue's own words may start before a clause break (": no" after a heading, "GU: No
    # hematuria"): where the cue ends is the clause it negates in.
    return bool(negations) and all(
        (clause_of(span.doc, m.modifier_span[1] - 1) != here and m.modifier_span[0] < span.end)
        or _across_a_comma(span, m)
        for m in negations
    )


#: Marks after which a following "normal" or "intact" is about the next item of a list.
_LIST_MARKS = frozenset({",", ";"})


def _across_a_comma(span: Span, modifier: ConTextModifier) -> bool:
    """A cue that reaches back across a comma is about another item of a list: "saddle
    anaesthesia, normal reflexes" does not deny the saddle anaesthesia, nor "HIV negative, short
    of breath" the breathlessness ("numb bum - no" and "Saddle anaesthesia? No." still answer
    it; "no fever, chills or sweats" still denies all three, its cue only looking forward)."""
    start, end = modifier.modifier_span
    if start >= span.end:
        between = span.doc[span.end : start]
    elif end <= span.start and _said_after(modifier):
        between = span.doc[end : span.start]
    else:
        return False
    return any(t.text in _LIST_MARKS for t in between)


def _said_after(modifier: ConTextModifier) -> bool:
    """A cue said after what it denies ("MRI negative", "reflexes normal"): one before a comma
    belongs to the item before it, never to the next. The language's context_rules.json lists
    them (`said_after`); the pipeline marks their rules."""
    metadata = modifier.rule.metadata
    return bool(metadata and metadata.get(SAID_AFTER))
