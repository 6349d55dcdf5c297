"""What a note says was done: the documented action, read with the same ConText as findings.

The action vocabulary and the words around an action (a plan's headings, the words of a condition
or of safety-netting) are data (`text/data/<language>/actions.yaml`). A match counts when ConText
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
from backtriage.text.layout import LETTER, MESSAGE, NoteLayout
from backtriage.text.patterns import PatternSet
from backtriage.text.pipeline import TextPipeline
from backtriage.text.resources import ActionWords, TextResources
from backtriage.text.words import words_pattern

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

#: Any heading at the start of a line ("PMH:", "O/E:") ends a plan section.
_HEADING = re.compile(rf"^[ \t>*-]*[{LETTER}][{LETTER}/&. ]{{0,24}}:", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.;!?\n]")


@dataclass(frozen=True)
class _Cues:
    """The language's words around an action (actions.yaml), compiled."""

    #: A heading that opens a plan or impression section, at the start of a line.
    plan: re.Pattern[str]
    #: Where the clause around an action ends: sentence ends, commas, dashes between words, "but".
    clause_end: re.Pattern[str]
    #: "attend ED if it gets worse": an action on a condition is safety-netting, not an action.
    condition_after: re.Pattern[str]
    #: "S/N: A&E ...", "knows to attend ED", "if worse, ED": the same, said before the action.
    safety_net_before: re.Pattern[str]

    @classmethod
    def of(cls, words: ActionWords) -> _Cues:
        return cls(
            plan=re.compile(
                rf"^[ \t>*-]*(?:{words_pattern(words.plan_headings, 'space')})\s*[:\-]",
                re.IGNORECASE | re.MULTILINE,
            ),
            clause_end=re.compile(
                rf"[.;!?\n,()]|\s[-\u2013]\s|\b(?:{words_pattern(words.clause_breaks, 'space')})\b",
                re.IGNORECASE,
            ),
            condition_after=re.compile(
                rf"[^.;,\n]{{0,20}}?\b(?:{words_pattern(words.conditions, 'space')})\b", re.IGNORECASE
            ),
            safety_net_before=re.compile(
                rf"\b(?:{words_pattern(words.safety_net, 'space')})\b", re.IGNORECASE
            ),
        )


@dataclass(frozen=True)
class Action:
    level: str
    name: str
    words: str
    start: int
    end: int


class ActionReader:
    """The actions of one language's text resources (actions.yaml)."""

    def __init__(self, resources: TextResources) -> None:
        named = [(spec.level, spec.name, p) for spec in resources.actions for p in spec.patterns]
        self.pattern_set = PatternSet([p for _, _, p in named], resources.language)
        self.names = [(level, name) for level, name, _ in named]
        self.language = resources.language
        self._cues = _Cues.of(resources.action_words)

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
            regions = self._plan_regions(text)
        for region in regions:  # each pattern only where it could match (patterns.py)
            for index, _ in self.pattern_set.regions(lower, [region]):
                (level, name), pattern = self.names[index], self.pattern_set.regex(index)
                for m in pattern.finditer(lower, *region):
                    if m.start() == m.end() or not self._affirmed(text, m.start(), m.end(), pipeline):
                        continue
                    key = (m.start(), m.end())
                    if key not in found or ACTION_RANK[level] > ACTION_RANK[found[key].level]:
                        found[key] = Action(level, name, text[m.start() : m.end()], m.start(), m.end())
        return sorted(found.values(), key=lambda a: a.start)

    def _affirmed(self, text: str, start: int, end: int, pipeline: TextPipeline | None) -> bool:
        """Not denied, not past, not someone else's (ConText), and not conditional. ConText reads
        the action's own clause ("no transport - ambulance requested": the "no" is about the
        transport). Its "hypothetical" is not used: it reads every plan as future, and a plan
        is the action."""
        cues = self._cues
        sentence = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
        a = max((m.end() for m in cues.clause_end.finditer(text, sentence, start)), default=sentence)
        stop = cues.clause_end.search(text, end)
        clause_end = stop.start() if stop else len(text)
        if cues.condition_after.match(text, end) or cues.safety_net_before.search(text, sentence, start):
            return False
        attributes = context_of(text[a:clause_end], text[start:end], pipeline, language=self.language)
        return not (attributes.negated or attributes.historical or attributes.experiencer.value != "patient")

    def _plan_regions(self, text: str) -> list[tuple[int, int]]:
        """Character ranges of the plan and impression sections, or the whole text."""
        plan, regions = self._cues.plan, []
        for m in plan.finditer(text):
            following = [
                h.start() for h in _HEADING.finditer(text, m.end()) if not plan.match(text, h.start())
            ]
            regions.append((m.start(), following[0] if following else len(text)))
        return regions or [(0, len(text))]


def highest(actions: list[Action]) -> str:
    return max((a.level for a in actions), key=ACTION_RANK.__getitem__, default="none")
