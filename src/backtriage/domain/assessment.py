"""The result of an assessment: urgency, red flags, ranked causes and the reasons for each."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from backtriage.domain.note import SectionRole
from backtriage.domain.urgency import UrgencyLevel

__all__ = [
    "Scope",
    "TextMention",
    "TextReading",
    "AdviceItem",
    "Assessment",
    "ConditionResult",
    "EvidenceItem",
    "FindingState",
    "FiredRule",
    "PendingQuestion",
    "ReadingNote",
    "UrgencyReason",
    "UrgencyReasonKind",
]


class Scope(StrEnum):
    """Whether the problem lies in the back and its nerves, the tool's scope."""

    BACK = "back"
    POSSIBLY_NOT_BACK = "possibly_not_back"
    NOT_BACK = "not_back"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TextMention(_Out):
    """Words in the input text that mention a finding, and what ConText made of them."""

    finding: str
    text: str
    start: int = Field(description="Character offset of the first character.")
    end: int = Field(description="Character offset just past the last character.")
    negated: bool
    uncertain: bool
    historical: bool
    hypothetical: bool
    experiencer: str = Field(description="'patient', 'family' or 'other'.")
    section: str | None = Field(default=None, description="The heading of the note's section it is in.")
    section_role: SectionRole | None = Field(
        default=None, description="What that section is for (only in a note with sections)."
    )
    region: str | None = None
    laterality: str | None = Field(default=None, description="'left', 'right' or 'both'.")
    counted_as: str = Field(description="'present', 'absent' or 'ignored'.")
    reason: str = Field(
        description="Why the mention counted as it did, as a code ('affirmed', 'denial', 'past' ...)."
    )
    corrections: list[str] = Field(
        default_factory=list,
        description="Misspelt words in the mention and what they were read as ('numbess -> numbness').",
    )
    concepts: list[str] = Field(
        default_factory=list,
        description="The concepts, and the words for each, that made this mention; empty when a "
        "phrase of the pattern lexicon made it.",
    )


class FindingState(_Out):
    """One finding as the assessment saw it."""

    id: str
    label: str
    lay_label: str = Field(default="", description="The finding in a person's own plain words.")
    present: bool | None
    origin: str = Field(
        description="'answer' when given, 'text' when read from free text, 'derived' when "
        "computed from age or sex."
    )
    mentions: list[TextMention] = Field(default_factory=list)


class ReadingNote(StrEnum):
    """Something the reading of a text could not use, or read in a particular way."""

    EMPTY = "empty"  # nothing could be read
    ABOUT_SOMEONE_ELSE = "about_someone_else"  # written about a relative or friend: read as theirs
    NOTHING_FOUND = "nothing_found"  # no finding recognised; the red-flag questions still need answers
    LANGUAGE_NOT_READ = "language_not_read"  # in a language backtriage cannot read yet: nothing was used


class TextReading(_Out):
    """What was read from free text, including what could not be used."""

    characters: int
    mentions: list[TextMention]
    age: int | None = None
    age_text: str | None = None
    sex: str | None = None
    sex_text: str | None = None
    duration_days: float | None = None
    duration_text: str | None = None
    onset: str | None = None
    notes: list[ReadingNote] = Field(default_factory=list)
    language: str | None = Field(
        default=None, description="The language the text seemed to be in (ISO 639-1), when it was identified."
    )
    resources_version: str | None = Field(default=None, description="Text resources version.")
    resources_hash: str | None = Field(default=None, description="Text resources content hash.")


class EvidenceItem(_Out):
    """How one answered finding moved one condition's probability."""

    finding: str
    label: str
    lay_label: str = Field(default="", description="The finding in a person's own plain words.")
    present: bool
    likelihood_ratio: float
    estimate: bool
    sources: list[str]
    note: str | None = None
    unexplained: bool = Field(
        default=False, description="The cause does not account for this finding (it counts against it)."
    )


class ConditionResult(_Out):
    id: str
    name: str
    lay_name: str
    icd10: list[str]
    probability: float = Field(ge=0, le=1)
    base_urgency: UrgencyLevel
    evidence_for: list[EvidenceItem]
    evidence_against: list[EvidenceItem]
    unanswered: list[str] = Field(description="Findings that bear on this condition but were not answered.")
    level: str | None = Field(default=None, description="Most likely spinal root level, if any.")
    scope: str = Field(default="back", description="'back', or 'not_back' for causes outside the back.")
    defining_denied: bool = Field(
        default=False, description="Every finding that defines this cause was answered no, so it cannot lead."
    )


class FiredRule(_Out):
    id: str
    name: str
    urgency: UrgencyLevel
    findings: list[str] = Field(description="The present findings that made the rule fire.")
    suggests: list[str]
    rationale: str
    sources: list[str]


class UrgencyReasonKind(StrEnum):
    RULE = "rule"
    DIFFERENTIAL = "differential"
    PENDING_SCREEN = "pending_screen"
    NO_BENIGN_PATTERN = "no_benign_pattern"
    DEFAULT = "default"


class UrgencyReason(_Out):
    """One reason the urgency is at least ``urgency``."""

    kind: UrgencyReasonKind
    urgency: UrgencyLevel
    ref: str | None = Field(default=None, description="Rule or condition id behind it.")
    findings: list[str] = Field(
        default_factory=list,
        description="rule: the present findings it fired on; pending_screen: the red-flag questions "
        "still open; no_benign_pattern: what the nearest harmless pattern still needs.",
    )
    probability: float | None = Field(default=None, description="differential: the cause's probability.")
    threshold: float | None = Field(
        default=None, description="differential: the probability from which the cause lends its urgency."
    )


class PendingQuestion(_Out):
    finding: str
    question: str
    screen: str


class AdviceItem(_Out):
    id: str
    kind: str
    text: str
    sources: list[str]


class Assessment(_Out):
    """Everything an assessment concluded, and why."""

    urgency: UrgencyLevel
    scope: Scope = Field(
        description="'back'; 'possibly_not_back' when a cause outside the back is suspected too; "
        "'not_back' when only causes outside the back explain the red flags."
    )
    outside_back: list[str] = Field(
        default_factory=list,
        description="Causes outside the back that must be ruled out, when the scope is not 'back' "
        "(condition ids).",
    )
    suspected: list[str] = Field(
        default_factory=list,
        description="Causes the fired red-flag rules point to, most urgent first (condition ids).",
    )
    emergency_number: str = Field(description="The number to call in an emergency, from the settings.")
    urgency_reasons: list[UrgencyReason]
    red_flags: list[FiredRule] = Field(description="Rules of urgency 'urgent' or above that fired.")
    rules_fired: list[FiredRule] = Field(description="Every rule that fired, red flag or not.")
    pending_red_flags: list[PendingQuestion] = Field(
        description="Mandatory red-flag questions still unanswered; self-care needs none."
    )
    conditions: list[ConditionResult]
    findings: list[FindingState]
    advice: list[AdviceItem]
    sources: dict[str, str] = Field(description="Citation of every source id used above.")
    kb_version: str
    kb_hash: str
    text: TextReading | None = Field(default=None, description="Present when text was given.")
