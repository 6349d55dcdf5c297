"""Stage 4 of reading a text: whether each mention counts as present, absent or ignored, and why.

The rules are the safety policy's (see understand.py): only affirmed, current mentions about the
patient count as present; negated ones and denial phrases count as absent; uncertain,
hypothetical, other people's and past ones (unless the finding is itself about history) count as
neither. A decision is a `CountReason`; its value is the sentence the API and the page show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum

from backtriage.domain.assessment import TextMention
from backtriage.domain.note import SectionRole
from backtriage.text.attributes import MentionInContext
from backtriage.text.context import ContextAttributes, Experiencer

__all__ = ["CountReason", "CountedAs", "CountedMention", "answers_of", "count", "drop_superseded"]


class CountedAs(StrEnum):
    """What a mention contributes to its finding's answer."""

    PRESENT = "present"
    ABSENT = "absent"
    IGNORED = "ignored"


class CountReason(Enum):
    """Why a mention counted as it did."""

    IN_MEDICINES = "in_medicines"  # in a list of medicines or allergies
    IN_PROCEDURE = "in_procedure"  # in the account of how a procedure was done
    IN_INSTRUCTIONS = "in_instructions"  # in advice or instructions given to the patient
    ABOUT_FAMILY = "about_family"
    ABOUT_OTHER = "about_other"  # someone else, not family
    HYPOTHETICAL = "hypothetical"  # safety-netting advice, a question
    UNCERTAIN = "uncertain"  # possible, suspected, to be ruled out
    PAST = "past"  # in the past, not current
    NEGATED_DENIAL = "negated_denial"  # not read as the finding being present
    DENIAL = "denial"  # a phrase that says the finding is absent
    NEGATED = "negated"
    AFFIRMED = "affirmed"

    @property
    def counted_as(self) -> CountedAs:
        if self is CountReason.AFFIRMED:
            return CountedAs.PRESENT
        if self in (CountReason.DENIAL, CountReason.NEGATED):
            return CountedAs.ABSENT
        return CountedAs.IGNORED


#: Sections where no finding is read: drug names, steps and instruments of an operation, advice.
_NOT_READ = {
    SectionRole.MEDICATIONS: CountReason.IN_MEDICINES,
    SectionRole.PROCEDURE: CountReason.IN_PROCEDURE,
    SectionRole.INSTRUCTIONS: CountReason.IN_INSTRUCTIONS,
}
_SOMEONE_ELSE = {Experiencer.FAMILY: CountReason.ABOUT_FAMILY, Experiencer.OTHER: CountReason.ABOUT_OTHER}


@dataclass(frozen=True)
class CountedMention:
    """A mention in its context, and how it counts."""

    mention: MentionInContext
    reason: CountReason

    @property
    def counted_as(self) -> CountedAs:
        return self.reason.counted_as


def count(
    attrs: ContextAttributes,
    role: SectionRole | None,
    *,
    past_counts: bool,
    denies: bool,
    directly_negated: bool,
) -> CountReason:
    """How one mention counts. `past_counts`: the finding is itself about history ("history of
    cancer"), so a past mention of it still counts. `denies`: the mention is a denial phrase
    ("bladder and bowels normal"); `directly_negated`: a negation stands just before that phrase
    ("I wouldn't say my bladder is normal"), which is no denial and no finding either."""
    ignored = _why_ignored(attrs, role, past_counts)
    if ignored is not None:
        return ignored
    if denies:
        return CountReason.NEGATED_DENIAL if directly_negated else CountReason.DENIAL
    return CountReason.NEGATED if attrs.negated else CountReason.AFFIRMED


def _why_ignored(attrs: ContextAttributes, role: SectionRole | None, past_counts: bool) -> CountReason | None:
    """Why a mention says nothing of the patient now, if it does not; the first reason wins."""
    if role is not None and role in _NOT_READ:
        return _NOT_READ[role]
    if attrs.experiencer is not Experiencer.PATIENT:
        return _SOMEONE_ELSE[attrs.experiencer]
    if attrs.hypothetical:
        return CountReason.HYPOTHETICAL
    if attrs.uncertain:
        return CountReason.UNCERTAIN
    if attrs.historical and not past_counts:
        return CountReason.PAST
    return None


def drop_superseded(mentions: list[CountedMention]) -> list[CountedMention]:
    """A denial phrase ("bladder and bowels normal") supersedes a bare pattern mention of the same
    finding that overlaps it ("bladder and bowels"), whose negation cue the denial absorbed; never
    a mention described by concepts of its own ("can't" + "walk on my heels", "bladder leaking")."""
    denials = [m for m in mentions if m.reason is CountReason.DENIAL]
    return [m for m in mentions if not any(_supersedes(d, m) for d in denials)]


def _supersedes(denial: CountedMention, other: CountedMention) -> bool:
    d, m = denial.mention.found, other.mention.found
    return (
        other.reason is not CountReason.DENIAL
        and d.finding == m.finding
        and d.start < m.end
        and m.start < d.end
        and not m.concepts
    )


def answers_of(
    mentions: Iterable[TextMention], counts: Callable[[TextMention], bool] = lambda _: True
) -> dict[str, bool]:
    """One answer per finding from the mentions `counts` accepts as evidence of presence: present
    wins over absent, so a red flag is never talked away by a denial elsewhere."""
    answers: dict[str, bool] = {}
    for m in mentions:
        if m.counted_as == CountedAs.PRESENT and counts(m):
            answers[m.finding] = True
        elif m.counted_as == CountedAs.ABSENT and answers.get(m.finding) is not True:
            answers[m.finding] = False
    return answers
