"""What the EHR's record says, read from the prefetched resources (FHIR R4, read with the R4B
models): age and sex from the Patient, findings from Observations coded with backtriage's finding
codes or HPO, causes already diagnosed from active Conditions (ICD-10-CM; context only, never
turned into findings) and the latest note's text.

Observations follow the Phenomics Exchange pattern backtriage itself writes: `code` = HPO or
`<canonical>/CodeSystem/finding`, value LOINC LA9633-4 present / LA9634-2 absent (yes / no and
`valueBoolean` are read too); no value, or `dataAbsentReason`, is unknown and ignored. When
several Observations speak of one finding the latest wins; at the same moment, present wins.
A resource that is not valid FHIR, or is about another patient, is left out and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from backtriage.domain.case import MAX_AGE, Sex
from backtriage.interop.terminology import Terminology
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["Origin", "Record", "read_record"]

_log = logging.getLogger("backtriage.cds_hooks")

#: Observation statuses whose value stands (registered has none yet; the rest were withdrawn).
_STANDING = {"final", "amended", "corrected", "preliminary"}
_ACTIVE = {"active", "recurrence", "relapse"}
_WITHDRAWN = {"refuted", "entered-in-error"}
_TEXT_TYPES = ("text/plain", "text/markdown")


@dataclass(frozen=True)
class Origin:
    """Where a finding was read: an Observation or the note, and when it was recorded."""

    kind: Literal["observation", "note"]
    reference: str | None
    when: datetime | None


@dataclass
class Record:
    """The patient's record as far as it bears on back numbness."""

    age: int | None = None
    sex: Sex | None = None
    #: finding id -> (present, where it was read), from Observations (the latest of each).
    observed: dict[str, tuple[bool, Origin]] = field(default_factory=dict)
    note: str | None = None
    note_origin: Origin | None = None
    #: Causes from the knowledge base already diagnosed (condition id, ICD-10-CM code).
    diagnosed: list[tuple[str, str]] = field(default_factory=list)
    #: Resources left out: not valid FHIR, or about another patient.
    unreadable: int = 0


def read_record(
    resources: dict[str, list[dict[str, Any]]],
    patient_id: str,
    kb: KnowledgeBase,
    terms: Terminology,
    today: date,
) -> Record:
    record = Record()
    reader = _Reader(kb, terms, patient_id, record)
    for patient in resources.get("patient", [])[:1]:
        reader.patient(patient, today)
    for observation in resources.get("observations", []):
        reader.observation(observation)
    for condition in resources.get("conditions", []):
        reader.condition(condition)
    notes = [n for n in (reader.note(d) for d in resources.get("note", [])) if n is not None]
    if notes:
        record.note, record.note_origin = max(notes, key=lambda n: _order(n[1].when))
    if record.unreadable:
        _log.warning(
            "cds-hooks: %d prefetched resources left out (invalid or another patient's)", record.unreadable
        )
    return record


def _order(moment: datetime | None) -> datetime:
    return moment or datetime.min.replace(tzinfo=UTC)


class _Reader:
    def __init__(self, kb: KnowledgeBase, terms: Terminology, patient_id: str, record: Record) -> None:
        self.record, self.patient_id, self.terms = record, patient_id, terms
        self.finding_system = terms.url("CodeSystem", "finding")
        self.findings = {f.id for f in kb.asked_findings}
        self.by_hpo = {code: f.id for f in kb.asked_findings for code in f.hpo}
        self.by_icd = {code: c.id for c in kb.conditions.values() for code in c.icd10}
        answers = terms.answers
        self.values = {
            answers["present"].code: True,
            answers["yes"].code: True,
            answers["absent"].code: False,
            answers["no"].code: False,
        }

    def _valid(self, model: Any, resource: dict[str, Any]) -> Any:
        try:
            return model.model_validate(resource)
        except (ValidationError, ValueError, TypeError):
            self.record.unreadable += 1
            return None

    def _theirs(self, subject: Any) -> bool:
        """Whether a resource's subject is this call's patient (no subject: the search's own)."""
        reference = getattr(subject, "reference", None) if subject is not None else None
        if reference is None:
            return True
        if reference.rstrip("/").endswith(f"Patient/{self.patient_id}"):
            return True
        self.record.unreadable += 1
        return False

    def patient(self, resource: dict[str, Any], today: date) -> None:
        patient = self._valid(Patient, resource)
        if patient is None:
            return
        if patient.id is not None and patient.id != self.patient_id:
            self.record.unreadable += 1
            return
        self.record.sex = {"female": Sex.FEMALE, "male": Sex.MALE}.get(patient.gender or "")
        born = _earliest(patient.birthDate)
        if born is not None and born <= today:
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            self.record.age = min(age, MAX_AGE)

    def observation(self, resource: dict[str, Any]) -> None:
        obs = self._valid(Observation, resource)
        if obs is None or not self._theirs(obs.subject) or obs.status not in _STANDING:
            return
        finding = self._finding(obs.code)
        present = self._value(obs)
        if finding is None or present is None:
            return
        when = _moment(obs.effectiveDateTime or obs.effectiveInstant or _period_end(obs.effectivePeriod))
        when = when or _moment(obs.issued)
        origin = Origin("observation", f"Observation/{obs.id}" if obs.id else None, when)
        held = self.record.observed.get(finding)
        if held is None or (_order(when), present) > (_order(held[1].when), held[0]):
            self.record.observed[finding] = (present, origin)

    def _finding(self, code: Any) -> str | None:
        codings = list(getattr(code, "coding", None) or [])
        for c in codings:  # backtriage's own code first: it names the finding exactly
            if c.system == self.finding_system and c.code in self.findings:
                return str(c.code)
        for c in codings:
            if c.system == self.terms.systems.hpo and c.code in self.by_hpo:
                return self.by_hpo[c.code]
        return None

    def _value(self, obs: Any) -> bool | None:
        if obs.dataAbsentReason is not None:
            return None
        if obs.valueBoolean is not None:
            return bool(obs.valueBoolean)
        concept = obs.valueCodeableConcept
        for c in getattr(concept, "coding", None) or []:
            if c.system == self.terms.systems.loinc and c.code in self.values:
                return self.values[c.code]
        return None

    def condition(self, resource: dict[str, Any]) -> None:
        condition = self._valid(FhirCondition, resource)
        if condition is None or not self._theirs(condition.subject):
            return
        if _codes(condition.clinicalStatus) and not _codes(condition.clinicalStatus) & _ACTIVE:
            return
        if _codes(condition.verificationStatus) & _WITHDRAWN:
            return
        for c in getattr(condition.code, "coding", None) or []:
            if c.system == self.terms.systems.icd10cm and c.code in self.by_icd:
                entry = (self.by_icd[c.code], str(c.code))
                if entry not in self.record.diagnosed:
                    self.record.diagnosed.append(entry)

    def note(self, resource: dict[str, Any]) -> tuple[str, Origin] | None:
        doc = self._valid(DocumentReference, resource)
        if doc is None or not self._theirs(doc.subject):
            return None
        if doc.status != "current" or doc.docStatus == "entered-in-error":
            return None
        contained = {r.id: r for r in doc.contained or [] if getattr(r, "id", None)}
        for content in doc.content or []:
            attachment = content.attachment
            data, kind = attachment.data, attachment.contentType
            if data is None and attachment.url and attachment.url.startswith("#"):
                binary = contained.get(attachment.url[1:])
                data = getattr(binary, "data", None)
                kind = kind or getattr(binary, "contentType", None)
            text = _text(data, kind)
            if text:
                when = _moment(doc.date) or _moment(_period_end(doc.context.period if doc.context else None))
                origin = Origin("note", f"DocumentReference/{doc.id}" if doc.id else None, when)
                return text, origin
        return None


def _codes(concept: Any) -> set[str]:
    return {str(c.code) for c in getattr(concept, "coding", None) or [] if c.code}


def _period_end(period: Any) -> Any:
    return None if period is None else period.end or period.start


def _text(data: bytes | None, content_type: str | None) -> str | None:
    """A plain-text attachment's words (charset from its content type, UTF-8 by default)."""
    if not data:
        return None
    kind, _, params = (content_type or "text/plain").partition(";")
    if kind.strip().lower() not in _TEXT_TYPES:
        return None
    charset = "utf-8"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    from backtriage.text import MAX_TEXT_CHARS

    return text[:MAX_TEXT_CHARS]  # a note longer than any text read is read as far as the limit


def _earliest(value: Any) -> date | None:
    """A FHIR date, partial ones ("1974", "1974-05") read as their first day: the older age, the
    cautious reading for a service whose red flags rise with age."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parts = value.split("-")
        try:
            return date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, 1)
        except (ValueError, IndexError):
            return None
    return None


def _moment(value: Any) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime (partial dates: their first day)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    day = _earliest(value)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day is not None else None
