"""What a note says was done: the documented action, read with the same ConText as findings.

The action vocabulary is data (`text/data/<language>/actions.yaml`). A match counts when ConText
finds it affirmed, current, not hypothetical and about this patient, so "attend ED if it gets
worse" is safety-netting, not an emergency referral. In a note with sections, what was done counts
as much as what is planned: every section about the patient now is read (the history of the
present illness says "taken to the operating room", the hospital course "admitted to the ICU"),
but not past history, medicines or advice. In a short note with plan or impression headings only
they are read; otherwise the whole note is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backtriage.domain.note import SectionRole
from backtriage.text.context import context_of
from backtriage.text.layout import MESSAGE, NoteLayout
from backtriage.text.patterns import PatternSet
from backtriage.text.pipeline import TextPipeline
from backtriage.text.resources import TextResources

__all__ = ["ACTION_RANK", "Action", "ActionReader"]

#: Sections of a note where what was done or planned is not read: the past, relatives, medicine
#: lists, advice, and a review-of-systems checklist.
_NOT_ACTION_ROLES = frozenset(
    {
        SectionRole.HISTORY,
        SectionRole.FAMILY,
        SectionRole.MEDICATIONS,
        SectionRole.INSTRUCTIONS,
        SectionRole.REVIEW_OF_SYSTEMS,
    }
)

#: Levels of care, lowest first; a note's action is the highest level it documents.
ACTION_RANK = {"none": 0, "routine": 1, "urgent": 2, "emergency": 3}

#: A heading that opens a plan or impression section, at the start of a line.
_PLAN = re.compile(
    r"^[ \t>*-]*(?:plan|p|imp(?:ression)?|assessment|a/p|a&p|management|mx|disposition|outcome|action)"
    r"\s*[:\-]",
    re.IGNORECASE | re.MULTILINE,
)
#: Any other heading ("PMH:", "O/E:") ends it.
_HEADING = re.compile(r"^[ \t>*-]*[A-Za-z][A-Za-z/&. ]{0,24}:", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.;!?\n]")
#: Where the clause around an action ends: sentence ends, commas, dashes between words, "but".
_CLAUSE_END = re.compile(r"[.;!?\n,()]|\s[-\u2013]\s|\bbut\b", re.IGNORECASE)
#: "attend ED if it gets worse": an action on a condition is safety-netting, not an action.
_CONDITION_AFTER = re.compile(
    r"[^.;,\n]{0,20}?\b(?:if|should|in case|in the event|unless|were to|would)\b", re.IGNORECASE
)
#: "S/N: A&E ...", "knows to attend ED", "if worse, ED": the same, said before the action.
_SAFETY_NET_BEFORE = re.compile(
    r"\b(?:s/n|safety[- ]?net\w*|knows to|aware to|to return|return to|call back|re-?attend)\b|\bif\b"
    r"|\bany (?:change|worsening|deterioration|new)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Action:
    level: str
    name: str
    words: str
    start: int
    end: int


class ActionReader:
    def __init__(self, resources: TextResources) -> None:
        named = [(spec.level, spec.name, p) for spec in resources.actions for p in spec.patterns]
        self.pattern_set = PatternSet([p for _, _, p in named])
        self.names = [(level, name) for level, name, _ in named]

    def read(
        self, text: str, pipeline: TextPipeline | None = None, layout: NoteLayout = MESSAGE
    ) -> list[Action]:
        """Every affirmed action in the note's sections about the patient now (in a short note,
        its plan, or the whole note if it has none)."""
        lower = text.lower()
        found: dict[tuple[int, int], Action] = {}
        if layout.is_document:
            regions = layout.regions_without(_NOT_ACTION_ROLES, len(text))
        else:
            regions = _plan_regions(text)
        for region in regions:  # each pattern only where it could match (patterns.py)
            for index, _ in self.pattern_set.regions(lower, [region]):
                (level, name), pattern = self.names[index], self.pattern_set.regex(index)
                for m in pattern.finditer(lower, *region):
                    if m.start() == m.end() or not _affirmed(text, m.start(), m.end(), pipeline):
                        continue
                    key = (m.start(), m.end())
                    if key not in found or ACTION_RANK[level] > ACTION_RANK[found[key].level]:
                        found[key] = Action(level, name, text[m.start() : m.end()], m.start(), m.end())
        return sorted(found.values(), key=lambda a: a.start)


def _affirmed(text: str, start: int, end: int, pipeline: TextPipeline | None) -> bool:
    """Not denied, not past, not someone else's (ConText), and not conditional. ConText reads
    the action's own clause ("no transport - ambulance requested": the "no" is about the
    transport). Its "hypothetical" is not used: it reads every plan as future, and a plan
    is the action."""
    sentence = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    a = max((m.end() for m in _CLAUSE_END.finditer(text, sentence, start)), default=sentence)
    stop = _CLAUSE_END.search(text, end)
    clause_end = stop.start() if stop else len(text)
    if _CONDITION_AFTER.match(text, end) or _SAFETY_NET_BEFORE.search(text, sentence, start):
        return False
    attributes = context_of(text[a:clause_end], text[start:end], pipeline)
    return not (attributes.negated or attributes.historical or attributes.experiencer.value != "patient")


def _plan_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges of the plan and impression sections, or the whole text."""
    regions = []
    for m in _PLAN.finditer(text):
        following = [h.start() for h in _HEADING.finditer(text, m.end()) if not _PLAN.match(text, h.start())]
        regions.append((m.start(), following[0] if following else len(text)))
    return regions or [(0, len(text))]


def highest(actions: list[Action]) -> str:
    return max((a.level for a in actions), key=ACTION_RANK.__getitem__, default="none")
