"""The codes and canonical URLs backtriage uses in FHIR and CDS Hooks, read from data
(`interop/data/terminology.yaml`) with the same loader as the knowledge base."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import KnowledgeBaseError
from backtriage.knowledge.datafiles import read_data_folder, validate_one

__all__ = ["Answer", "CdsHooksTerms", "Concept", "Terminology", "UrgencyConcept", "load_terminology"]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Answer(_Data):
    code: str
    display: str


class UrgencyConcept(_Data):
    code: UrgencyLevel
    display: str
    definition: str
    act_priority: str | None
    act_priority_display: str | None
    cds_indicator: str = Field(pattern="^(info|warning|critical)$")


class RiskBand(_Data):
    at_least: float = Field(ge=0, le=1)
    code: str
    display: str


class Systems(_Data):
    hpo: str
    icd10cm: str
    loinc: str
    data_absent_reason: str
    act_priority: str
    risk_probability: str
    observation_category: str
    condition_category: str
    condition_verification: str
    condition_clinical: str
    provenance_participant_type: str
    act_priority_value_set: str


class Identifiers(_Data):
    """Identifier systems, as paths under the canonical base."""

    kb_sha256: str = Field(pattern=r"^[a-z0-9-]+$")
    anonymous_subject: str = Field(pattern=r"^[a-z0-9-]+$")


class Concept(_Data):
    code: str = Field(pattern=r"^[a-z0-9-]+$")
    display: str
    definition: str


class OwnConcepts(_Data):
    """backtriage's own codes where no standard one fits, one CodeSystem each."""

    observation: tuple[Concept, ...] = Field(min_length=1)
    method: tuple[Concept, ...] = Field(min_length=1)


class CdsHooksTerms(_Data):
    """The CDS Hooks card's fixed parts: where the knowledge base is explained for clinicians, the
    card's topic code and the codes of the reasons offered for overriding it (their words are in
    the message catalogue)."""

    docs_url: str = Field(pattern=r"^https://[^\s]+$")
    topic: str
    override_reasons: tuple[str, ...] = Field(min_length=1)


class Terminology(_Data):
    version: str
    canonical: str = Field(pattern=r"^https://[^\s]+[^/]$")
    fhir_version: str
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    systems: Systems
    identifiers: Identifiers
    concepts: OwnConcepts
    answers: dict[str, Answer]
    urgency: tuple[UrgencyConcept, ...]
    qualitative_risk: tuple[RiskBand, ...]
    hpo_acknowledgement: str
    hpo_version: str
    cds_hooks: CdsHooksTerms

    def url(self, kind: str, name: str) -> str:
        """A canonical URL backtriage mints: `url("CodeSystem", "urgency")`."""
        return f"{self.canonical}/{kind}/{name}"

    def identifier_system(self, name: str) -> str:
        """An identifier system backtriage mints: `identifier_system(terms.identifiers.kb_sha256)`."""
        return f"{self.canonical}/{name}"

    def urgency_concept(self, level: UrgencyLevel) -> UrgencyConcept:
        return next(u for u in self.urgency if u.code is level)

    def risk_band(self, probability: float) -> RiskBand:
        """The qualitative risk for a probability between 0 and 1."""
        return [b for b in self.qualitative_risk if probability >= b.at_least][-1]


@lru_cache(maxsize=1)
def load_terminology(folder: Path | None = None) -> Terminology:
    """The shipped terminology (or one from `folder`); a bad file is a KnowledgeBaseError."""
    where = folder or Path(str(resources.files("backtriage.interop") / "data"))
    data = read_data_folder(where, {"terminology.yaml": (("terminology",), ())})
    problems: list[str] = []
    raw = data.files["terminology.yaml"]["terminology"]
    terms = validate_one(Terminology, raw, "terminology.yaml", problems)
    if terms is not None:
        problems += _check(terms)
    if problems or terms is None:
        raise KnowledgeBaseError(problems)
    return terms


def _check(terms: Terminology) -> list[str]:
    problems = []
    if {u.code for u in terms.urgency} != set(UrgencyLevel):
        problems.append("terminology.yaml: urgency must list each urgency level once")
    if not terms.qualitative_risk or terms.qualitative_risk[0].at_least != 0:
        problems.append("terminology.yaml: qualitative_risk must start at 0")
    bounds = [b.at_least for b in terms.qualitative_risk]
    if bounds != sorted(set(bounds)):
        problems.append("terminology.yaml: qualitative_risk bounds must rise")
    if any((u.act_priority is None) != (u.act_priority_display is None) for u in terms.urgency):
        problems.append("terminology.yaml: act_priority and act_priority_display go together")
    missing = {"yes", "no", "unknown", "present", "absent"} - set(terms.answers)
    if missing:
        problems.append(f"terminology.yaml: answers lacks {', '.join(sorted(missing))}")
    return problems
