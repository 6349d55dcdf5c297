"""Typed shapes of the knowledge-base files.

Each model forbids unknown keys, so a typo in a data file is an error rather than a silently
ignored field. Cross-references between files (a rule naming a finding, an evidence row naming
a source) are checked by `backtriage.knowledge.validate`, not here.
"""

from __future__ import annotations

import re
import string
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backtriage.domain.note import NoteKind
from backtriage.domain.urgency import UrgencyLevel

__all__ = [
    "Advice",
    "BenignPattern",
    "ConditionScope",
    "InterviewSettings",
    "ChoiceOption",
    "ChoiceQuestion",
    "AdviceKind",
    "Condition",
    "Derivation",
    "Evidence",
    "Finding",
    "FindingGroup",
    "Manifest",
    "Policy",
    "RedFlagRule",
    "Screen",
    "Source",
    "SourceKind",
]

_ID = r"^[a-z][a-z0-9_]*$"
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_HPO = re.compile(r"^HP:\d{7}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceKind(StrEnum):
    GUIDELINE = "guideline"
    SYSTEMATIC_REVIEW = "systematic_review"
    PRIMARY_STUDY = "primary_study"
    TEXTBOOK = "textbook"
    SEED = "seed"
    ESTIMATE = "estimate"


class Source(_Strict):
    """A reference that knowledge entries cite by id."""

    id: str = Field(pattern=_ID)
    kind: SourceKind
    citation: str = Field(min_length=5)
    url: str | None = None


class FindingGroup(StrEnum):
    DEMOGRAPHIC = "demographic"
    PRESENTATION = "presentation"
    PATTERN = "pattern"
    LOCATION = "location"
    NEUROLOGICAL = "neurological"
    SPHINCTER = "sphincter"
    SYSTEMIC = "systemic"
    HISTORY = "history"
    EXAMINATION = "examination"


#: Groups of findings that say how the body feels now (not patterns, history or demographics).
SYMPTOM_GROUPS = frozenset(
    {
        FindingGroup.PRESENTATION,
        FindingGroup.LOCATION,
        FindingGroup.NEUROLOGICAL,
        FindingGroup.SPHINCTER,
        FindingGroup.SYSTEMIC,
    }
)


class Derivation(_Strict):
    """A finding computed from demographics instead of asked, e.g. ``age >= 50``."""

    field: Literal["age", "sex"]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    equals: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Derivation:
        if self.field == "age":
            if self.min is None and self.max is None:
                raise ValueError("an age derivation needs min and/or max")
            if self.equals is not None:
                raise ValueError("an age derivation uses min/max, not equals")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError("an age derivation has min greater than max")
        else:
            if self.equals not in ("female", "male"):
                raise ValueError("a sex derivation needs equals: female or male")
            if self.min is not None or self.max is not None:
                raise ValueError("a sex derivation uses equals, not min/max")
        return self

    def describe(self) -> str:
        if self.field == "sex":
            return f"sex is {self.equals}"
        if self.min is not None and self.max is not None:
            return f"age {self.min} to {self.max}"
        if self.min is not None:
            return f"age {self.min} or over"
        return f"age {self.max} or under"


class Finding(_Strict):
    """Something about the person that can be present, absent or unknown."""

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=3, description="Clinician-facing name.")
    lay_label: str = Field(
        min_length=3,
        description="The finding in a person's own plain words, as a statement that can follow "
        "'You said:' ('numb between the legs or around the bottom'); lower-case unless a name.",
    )
    question: str | None = Field(default=None, description="Lay question that asks about it.")
    help: str | None = None
    group: FindingGroup
    red_flag: bool = False
    derived_from: Derivation | None = None
    unexplained_lr: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description=(
            "Likelihood ratio applied, when the finding is present, to every condition that does "
            "not list it as evidence: the condition cannot account for it. Unset means such "
            "conditions are unaffected (ratio 1)."
        ),
    )
    excludes: list[str] = Field(
        default_factory=list,
        description="Findings that are absent by definition when this one is present (numbness that "
        "clears within minutes of moving is not persistent); an explicit answer still wins.",
    )
    volunteered: bool = Field(
        default=False,
        description="Read from what people write or answered explicitly, never asked one by one in the "
        "interview: context (bleeding, heartburn) that completes a combination a short message raises, "
        "but would lengthen every interview if asked of everyone.",
    )
    hpo: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)

    @field_validator("hpo")
    @classmethod
    def _hpo_ids(cls, values: list[str]) -> list[str]:
        for v in values:
            if not _HPO.match(v):
                raise ValueError(f"'{v}' is not an HPO id like HP:0003401")
        return values

    @model_validator(mode="after")
    def _asked_or_derived(self) -> Finding:
        if self.derived_from is None and not self.question:
            raise ValueError(f"finding '{self.id}' needs a question (or derived_from)")
        if self.derived_from is not None and self.red_flag:
            raise ValueError(f"finding '{self.id}' is derived from demographics, not a red flag")
        if self.unexplained_lr is not None and not self.sources:
            raise ValueError(f"finding '{self.id}' sets unexplained_lr but names no source")
        return self


class Evidence(_Strict):
    """How one finding bears on one condition, as likelihood ratios.

    Give either ``sensitivity`` and ``specificity`` (the ratios are then derived, as
    LR+ = sens / (1 - spec) and LR- = (1 - sens) / spec) or ``lr_present`` and/or
    ``lr_absent`` directly. A missing ratio means the answer carries no information (LR 1).
    """

    finding: str = Field(pattern=_ID)
    lr_present: float | None = Field(default=None, gt=0, le=1000)
    lr_absent: float | None = Field(default=None, gt=0, le=1000)
    sensitivity: float | None = Field(default=None, gt=0, lt=1)
    specificity: float | None = Field(default=None, gt=0, lt=1)
    estimate: bool = Field(
        default=False, description="True when no published figure exists and the value is ours."
    )
    sources: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _one_way_of_stating(self) -> Evidence:
        has_accuracy = self.sensitivity is not None or self.specificity is not None
        has_ratio = self.lr_present is not None or self.lr_absent is not None
        if has_accuracy and has_ratio:
            raise ValueError(
                f"evidence for '{self.finding}' gives both sensitivity/specificity and "
                "likelihood ratios; give one or the other"
            )
        if has_accuracy and (self.sensitivity is None or self.specificity is None):
            raise ValueError(f"evidence for '{self.finding}' needs both sensitivity and specificity")
        if not has_accuracy and not has_ratio:
            raise ValueError(f"evidence for '{self.finding}' states no likelihood at all")
        return self

    @property
    def ratio_present(self) -> float:
        if self.sensitivity is not None and self.specificity is not None:
            return self.sensitivity / (1 - self.specificity)
        return self.lr_present if self.lr_present is not None else 1.0

    @property
    def ratio_absent(self) -> float:
        if self.sensitivity is not None and self.specificity is not None:
            return (1 - self.sensitivity) / self.specificity
        return self.lr_absent if self.lr_absent is not None else 1.0


ConditionScope = Literal["back", "not_back"]


class Condition(_Strict):
    """A possible cause of back paraesthesia."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=3)
    lay_name: str = Field(min_length=3)
    description: str = Field(min_length=10)
    icd10: list[str] = Field(min_length=1)
    hpo: list[str] = Field(default_factory=list)
    prior: float = Field(gt=0, lt=1, description="Share of people presenting with back paraesthesia.")
    prior_estimate: bool = True
    prior_sources: list[str] = Field(min_length=1)
    base_urgency: UrgencyLevel
    urgency_sources: list[str] = Field(min_length=1)
    advice: list[str] = Field(min_length=1)
    evidence: list[Evidence] = Field(min_length=1)
    levels: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Spinal root level -> findings that point to it (e.g. L5 -> foot_drop).",
    )
    scope: ConditionScope = Field(
        default="back",
        description="'not_back' for causes outside the back and its nerves (stroke, heart attack ...).",
    )
    defining: list[str] = Field(
        default_factory=list,
        description="Findings that define the cause: once every one is answered no, it cannot lead.",
    )

    @field_validator("icd10")
    @classmethod
    def _icd10_codes(cls, values: list[str]) -> list[str]:
        for v in values:
            if not _ICD10.match(v):
                raise ValueError(f"'{v}' is not an ICD-10-CM code like M51.16")
        return values


class RedFlagRule(_Strict):
    """A deterministic rule: when its findings are present, urgency is at least ``urgency``.

    ``all`` must all be present, at least one of ``any`` must be present (if ``any`` is not
    empty), and none of ``none`` may be present. Unknown counts as not present, so a rule
    with a ``none`` clause still fires while the excluding finding is unanswered.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=3)
    urgency: UrgencyLevel
    all_of: list[str] = Field(default_factory=list, alias="all")
    any_of: list[str] = Field(default_factory=list, alias="any")
    none_of: list[str] = Field(default_factory=list, alias="none")
    suggests: list[str] = Field(default_factory=list, description="Condition ids it points to.")
    rationale: str = Field(min_length=10)
    sources: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_trigger(self) -> RedFlagRule:
        if not self.all_of and not self.any_of:
            raise ValueError(f"rule '{self.id}' has neither 'all' nor 'any': it would always fire")
        return self

    @property
    def trigger_findings(self) -> list[str]:
        return [*self.all_of, *self.any_of]


class Screen(_Strict):
    """Red-flag questions that must be answered 'no' before self-care can be advised."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=3)
    applies_if_any: list[str] = Field(
        default_factory=list, description="Findings that bring this screen in; empty = always."
    )
    questions: list[str] = Field(min_length=1)
    sources: list[str] = Field(min_length=1)


class AdviceKind(StrEnum):
    ACTION = "action"
    SELF_CARE = "self_care"
    SAFETY_NET = "safety_net"
    INFORMATION = "information"


#: The only placeholder advice may use; filled in from the deployment's settings.
ADVICE_PLACEHOLDERS = frozenset({"emergency_number"})


class Advice(_Strict):
    """Patient-facing advice; ``{emergency_number}`` is filled in from the settings."""

    id: str = Field(pattern=_ID)
    kind: AdviceKind
    text: str = Field(min_length=10)
    sources: list[str] = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        unknown = names - ADVICE_PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)}; only {{emergency_number}} is filled in"
            )
        return value


class BenignPattern(_Strict):
    """A harmless pattern: ``all`` answered yes, ``denied`` answered no, ``asked`` answered at all.

    Self-care needs one of these to hold: positive evidence, not just an absence of red flags.
    """

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=3)
    all_of: list[str] = Field(min_length=1, alias="all")
    denied: list[str] = Field(min_length=1)
    asked: list[str] = Field(default_factory=list, description="Must be answered, yes or no.")
    rationale: str = Field(min_length=10)
    sources: list[str] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class InterviewSettings(_Strict):
    """When the interview stops, and its answer model. Ours: estimates, tuned on the vignettes."""

    max_questions: int = Field(ge=1)
    stop_probability: float = Field(gt=0, le=1, description="Stop once the leading cause is this likely...")
    min_gain: float = Field(ge=0, description="...or no question would gain this many bits.")
    min_raise_probability: float = Field(
        ge=0,
        le=1,
        description="Ask a question that could raise the urgency if 'yes' is at least this likely.",
    )
    background_rate: float = Field(
        gt=0, lt=1, description="Chance a finding is present when the cause does not explain it."
    )


class ScreenPolicy(_Strict):
    """What earns an alert when clinical notes are screened for red flags left without action."""

    alert_anywhere: list[str] = Field(
        min_length=1, description="Red-flag rules of the back's own emergencies: an alert in any note."
    )
    alert_in_topic: list[str] = Field(
        default_factory=list,
        description="Rules that earn an alert only in a note about the back or limb numbness: single "
        "sphincter or motor features, and emergencies outside the back.",
    )
    topic_findings: list[str] = Field(
        min_length=1, description="Findings that make a note one about the back or limb numbness."
    )
    no_alert_note_kinds: list[NoteKind] = Field(
        default_factory=list, description="Kinds of note that never alert (a post-mortem report)."
    )
    sources: list[str] = Field(min_length=1)


class Policy(_Strict):
    """Numbers that turn the differential into an urgency. Ours, so marked as estimates."""

    screen: ScreenPolicy

    differential_thresholds: dict[UrgencyLevel, float] = Field(
        description="A condition lends its base urgency once its probability reaches this."
    )
    differential_urgency_cap: UrgencyLevel = Field(
        description="The highest urgency the differential alone may give; rules give the rest."
    )
    pending_screen_urgency: UrgencyLevel = Field(
        description="Lowest urgency while the mandatory red-flag screen is unanswered."
    )
    unconfirmed_benign_urgency: UrgencyLevel = Field(
        description="Lowest urgency while no harmless pattern (benign_patterns) has been shown."
    )
    urgency_advice: dict[UrgencyLevel, list[str]]
    always_advice: list[str] = Field(default_factory=list)
    not_back_advice: list[str] = Field(
        default_factory=list, description="Advice first in line when the cause may lie outside the back."
    )
    not_back_emergency_action: str | None = Field(
        default=None,
        description="The action for an emergency whose cause lies outside the back only (scope "
        "not_back), in place of the back's: a stroke is not told to make its own way to hospital.",
    )
    advice_conditions: int = Field(ge=0, description="How many leading causes add their own advice.")
    self_care_advice_up_to: UrgencyLevel = Field(
        default=UrgencyLevel.ROUTINE,
        description="Self-care advice is given only at this urgency or lower: a person told to see a "
        "doctor today is not also told which painkiller to take.",
    )
    advice_min_probability: float = Field(gt=0, lt=1, description="...and how likely each must be.")
    not_back_probability: float = Field(
        gt=0, lt=1, description="A cause outside the back this likely makes the scope 'possibly_not_back'."
    )
    denied_cause_share: float = Field(
        gt=0,
        lt=1,
        description="A cause whose defining findings were all denied is held below this share of the "
        "best other cause, so it cannot lead.",
    )
    new_within_days: int = Field(
        ge=1,
        description="GIRFT: cauda equina features present longer than this, unchanged, are long-standing.",
    )
    long_standing_finding: str = Field(
        description="The finding that says symptoms are long-standing and unchanged; rules name it in "
        "`none` to downgrade a feature, so the text reader ties it to the features it qualifies."
    )
    changing_findings: list[str] = Field(
        default_factory=list,
        description="Findings that say the symptoms are new or changing: while one is present, a "
        "statement that they are long-standing and unchanged is not believed.",
    )
    interview: InterviewSettings
    sources: list[str] = Field(min_length=1)

    @field_validator("differential_thresholds")
    @classmethod
    def _probabilities(cls, values: dict[UrgencyLevel, float]) -> dict[UrgencyLevel, float]:
        for level, p in values.items():
            if not 0 < p <= 1:
                raise ValueError(f"threshold for {level} must be a probability in (0, 1]")
        return values


class ChoiceOption(_Strict):
    id: str = Field(pattern=_ID)
    text: str = Field(min_length=2)
    finding: str | None = Field(default=None, description="Finding this option answers, if any.")
    value: bool = True


class ChoiceQuestion(_Strict):
    """A question with options, each answering one finding (see questions.yaml)."""

    id: str = Field(pattern=_ID)
    kind: Literal["single_choice", "multi_choice"]
    none_of_these: bool = Field(
        default=False,
        description="Offer 'None of these', which answers every option's finding 'no'.",
    )
    unchosen_means_no: bool = Field(
        default=False, description="Options left unchosen answer their finding 'no'."
    )
    text: str = Field(min_length=5)
    help: str | None = None
    options: list[ChoiceOption] = Field(min_length=2)
    sources: list[str] = Field(min_length=1)


class Manifest(_Strict):
    name: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str
    language: str = "en"
