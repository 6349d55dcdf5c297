"""The result of an assessment: urgency, red flags, ranked causes and the reasons for each."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from backtriage.domain.urgency import UrgencyLevel

__all__ = [
    "AdviceItem",
    "Assessment",
    "ConditionResult",
    "EvidenceItem",
    "FindingState",
    "FiredRule",
    "PendingQuestion",
    "UrgencyReason",
    "UrgencyReasonKind",
]

DISCLAIMER = (
    "backtriage gives information, not a diagnosis, and is not a substitute for a clinician. "
    "In an emergency call your local emergency number."
)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FindingState(_Out):
    """One finding as the assessment saw it."""

    id: str
    label: str
    present: bool | None
    origin: str = Field(description="'answer' when given, 'derived' when computed from age or sex.")


class EvidenceItem(_Out):
    """How one answered finding moved one condition's probability."""

    finding: str
    label: str
    present: bool
    likelihood_ratio: float
    estimate: bool
    sources: list[str]
    note: str | None = None


class ConditionResult(_Out):
    id: str
    name: str
    lay_name: str
    icd10: list[str]
    probability: float = Field(ge=0, le=1)
    base_urgency: UrgencyLevel
    evidence_for: list[EvidenceItem]
    evidence_against: list[EvidenceItem]
    unanswered: list[str] = Field(
        description="Findings that bear on this condition but were not answered."
    )
    level: str | None = Field(default=None, description="Most likely spinal root level, if any.")


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
    DEFAULT = "default"


class UrgencyReason(_Out):
    """One reason the urgency is at least ``urgency``."""

    kind: UrgencyReasonKind
    urgency: UrgencyLevel
    summary: str
    ref: str | None = Field(default=None, description="Rule or condition id behind it.")


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
    urgency_label: str
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
    disclaimer: str = DISCLAIMER
