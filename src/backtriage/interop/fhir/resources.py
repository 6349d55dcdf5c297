"""An Assessment as FHIR R4 resources (R4B models), as docs/integrating.md lays them out.

- a **RiskAssessment**: one prediction per ranked cause (ICD-10-CM + backtriage cause codes), its
  probability in percent (0-100, said so in the rationale; the spec is ambiguous) and always a
  qualitative risk beside it;
- one **Observation** per finding state (HPO + backtriage codes, LOINC Present/Absent, or a
  data-absent reason when unknown), one per red flag fired and one for the urgency;
- a **ClinicalImpression** that sums it up in words and points at the red flags and the
  RiskAssessment;
- a **Device** (backtriage and its knowledge base) and a **Provenance** naming it as author.

Every resource carries `meta.source = urn:backtriage:kb:<version>#<sha256>`. Ids are uuid5 of the
knowledge-base hash and the content, so the same input and time give the same bundle. Resources
refer to each other by `urn:uuid:<id>`, the bundle's `fullUrl`s.

Without a subject, resources name an *unidentified person*: a reference with only an identifier
(system `<canonical>/anonymous-subject`, one value per assessment) and a display. A blank
Patient resource was the other way; an EHR importing the bundle might create a patient from it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.clinicalimpression import ClinicalImpression
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.riskassessment import RiskAssessment

from backtriage import __version__
from backtriage.domain.assessment import Assessment, ConditionResult, FindingState, FiredRule
from backtriage.errors import InvalidInputError
from backtriage.interfaces.presentation import fhir_text, words
from backtriage.interop.terminology import Terminology, load_terminology
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["assessment_bundle", "assessment_resources", "kb_source", "percent"]

_ID = r"[A-Za-z0-9\-.]{1,64}"
_SUBJECT = re.compile(rf"^(?:https?://\S+/)?(?:Patient|Group)/{_ID}$")
_RESPONSE = re.compile(
    rf"^(?:(?:https?://\S+/)?QuestionnaireResponse/{_ID}(?:/_history/{_ID})?|urn:uuid:[0-9a-f-]{{36}})$"
)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://fhir.backtriage.org/assessment")
_HUNDREDTH = Decimal("0.01")


def percent(probability: float) -> Decimal:
    """A probability (0-1) as the percentage RiskAssessment carries: two decimals, no trailing
    zeros (0.125 -> 12.5, 1 -> 100), never above 100 (invariant ras-2)."""
    value = (Decimal(repr(probability)) * 100).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
    value = min(max(value, Decimal(0)), Decimal(100))
    text = f"{value:f}"
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def kb_source(kb: KnowledgeBase) -> str:
    """`meta.source` of everything made from this knowledge base."""
    return f"urn:backtriage:kb:{kb.version}#{kb.content_hash}"


def assessment_resources(
    kb: KnowledgeBase,
    assessment: Assessment,
    *,
    subject: str | None = None,
    questionnaire_response: str | None = None,
    when: datetime | None = None,
) -> list[Resource]:
    """The resources of one assessment, referring to each other by `urn:uuid:` (put them in one
    bundle, as `assessment_bundle` does). `subject` is a reference such as "Patient/123";
    `questionnaire_response` the interview's QuestionnaireResponse, which the Observations
    derive from; `when` (timezone-aware) the time of the assessment, now if not given."""
    return _Build.start(kb, assessment, subject, questionnaire_response, when).resources()


def assessment_bundle(
    kb: KnowledgeBase,
    assessment: Assessment,
    *,
    subject: str | None = None,
    questionnaire_response: str | None = None,
    when: datetime | None = None,
) -> Bundle:
    """The resources of one assessment as a Bundle of type collection, each entry's `fullUrl`
    `urn:uuid:<id>`."""
    build = _Build.start(kb, assessment, subject, questionnaire_response, when)
    entries = [{"fullUrl": f"urn:uuid:{r.id}", "resource": r} for r in build.resources()]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": build.id("bundle"),
            "meta": build.meta,
            "type": "collection",
            "timestamp": build.when,
            "entry": entries,
        }
    )


def _ref(resource_id: str, display: str | None = None) -> dict[str, str]:
    ref = {"reference": f"urn:uuid:{resource_id}"}
    return ref | {"display": display} if display else ref


@dataclass(frozen=True)
class _Build:
    """What every resource of one assessment shares: its time, subject, meta and id seed."""

    kb: KnowledgeBase
    terms: Terminology
    a: Assessment
    subject: dict[str, Any]
    response: str | None
    when: str
    seed: str

    @classmethod
    def start(
        cls,
        kb: KnowledgeBase,
        a: Assessment,
        subject: str | None,
        response: str | None,
        when: datetime | None,
    ) -> _Build:
        # The messages name the parameter only: a patient's id is not repeated into a log.
        if subject is not None and not _SUBJECT.match(subject):
            raise InvalidInputError("subject must be a reference like 'Patient/123'")
        if response is not None and not _RESPONSE.match(response):
            raise InvalidInputError(
                "questionnaire_response must be a reference like 'QuestionnaireResponse/123'"
            )
        if when is not None and when.utcoffset() is None:
            raise InvalidInputError("when must carry a time zone")
        at = (when or datetime.now(UTC).replace(microsecond=0)).isoformat()
        content = "\n".join([kb.content_hash, a.model_dump_json(), subject or "", response or "", at])
        seed = hashlib.sha256(content.encode()).hexdigest()
        terms = load_terminology()
        if subject is not None:
            who: dict[str, Any] = {"reference": subject}
        else:
            anonymous = str(uuid.uuid5(_NAMESPACE, f"{seed}/subject"))
            system = terms.identifier_system(terms.identifiers.anonymous_subject)
            who = {
                "identifier": {"system": system, "value": anonymous},
                "display": fhir_text.unidentified_person(),
            }
        return cls(kb, terms, a, who, response, at, seed)

    def id(self, kind: str, key: str = "") -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.seed}/{kind}/{key}"))

    @property
    def meta(self) -> dict[str, str]:
        return {"source": kb_source(self.kb)}

    @property
    def device_id(self) -> str:
        """The same Device for every assessment by this program and knowledge base."""
        return str(uuid.uuid5(_NAMESPACE, f"device/{self.kb.content_hash}/{__version__}"))

    def coding(self, name: str, code: str, display: str, versioned: bool = True) -> dict[str, str]:
        """A coding of one of backtriage's CodeSystems (made from the knowledge base: versioned)."""
        coding = {"system": self.terms.url("CodeSystem", name), "code": code, "display": display}
        return coding | {"version": self.kb.version} if versioned else coding

    def answer(self, name: str) -> dict[str, Any]:
        answer = self.terms.answers[name]
        return {
            "coding": [{"system": self.terms.systems.loinc, "code": answer.code, "display": answer.display}]
        }

    # ---- the resources ------------------------------------------------------------------------
    def resources(self) -> list[Resource]:
        a = self.a
        findings = {f.id: self.finding(f) for f in a.findings}
        flags = [self.red_flag(rule, findings) for rule in a.red_flags]
        urgency = self.urgency(flags)
        risk = self.risk(list(findings.values()) + flags)
        impression = self.impression(flags, risk)
        device = self.device()
        made: list[Resource] = [impression, risk, urgency, *flags, *findings.values()]
        return [*made, device, self.provenance(made)]

    def observation(self, kind: str, key: str, body: dict[str, Any]) -> Observation:
        return Observation.model_validate(
            {
                "resourceType": "Observation",
                "id": self.id(kind, key),
                "meta": self.meta,
                "status": "final",
                "subject": self.subject,
                "effectiveDateTime": self.when,
                "issued": self.when,
                **body,
            }
        )

    def finding(self, state: FindingState) -> Observation:
        f = self.kb.findings.get(state.id)
        hpo = f.hpo if f is not None else []
        label = f.label if f is not None else state.label
        codes = [{"system": self.terms.systems.hpo, "code": code} for code in hpo]
        body: dict[str, Any] = {
            "category": [self.category("survey")],
            "code": {"coding": [*codes, self.coding("finding", state.id, label)], "text": label},
        }
        if state.present is None:
            absent = {"system": self.terms.systems.data_absent_reason, "code": "asked-unknown"}
            body["dataAbsentReason"] = {"coding": [absent | {"display": "Asked But Unknown"}]}
        else:
            body["valueCodeableConcept"] = self.answer("present" if state.present else "absent")
        if self.response is not None:
            body["derivedFrom"] = [{"reference": self.response}]
        return self.observation("finding", state.id, body)

    def category(self, code: str) -> dict[str, Any]:
        system = self.terms.systems.observation_category
        return {"coding": [{"system": system, "code": code, "display": code.capitalize()}]}

    def citations(self, source_ids: list[str]) -> list[str]:
        return [self.a.sources.get(s) or self._source(s) for s in source_ids]

    def _source(self, source_id: str) -> str:
        source = self.kb.sources.get(source_id)
        return source.citation if source is not None else source_id

    def red_flag(self, rule: FiredRule, findings: dict[str, Observation]) -> Observation:
        derived = [_ref(str(findings[f].id)) for f in rule.findings if f in findings]
        derived += [{"reference": self.response}] if self.response is not None else []
        body: dict[str, Any] = {
            "code": {"coding": [self.coding("red-flag", rule.id, rule.name)], "text": rule.name},
            "valueCodeableConcept": self.answer("present"),
            "note": [{"text": fhir_text.sources(self.citations(rule.sources))}],
        }
        if derived:
            body["derivedFrom"] = derived
        return self.observation("red-flag", rule.id, body)

    def urgency(self, flags: list[Observation]) -> Observation:
        level = self.a.urgency
        concept = self.terms.urgency_concept(level)
        codings = [self.coding("urgency", level.value, concept.display, versioned=False)]
        if concept.act_priority is not None and concept.act_priority_display is not None:
            system = self.terms.systems.act_priority
            codings.append(
                {"system": system, "code": concept.act_priority, "display": concept.act_priority_display}
            )
        own = self.terms.concepts.observation[0]
        derived = [_ref(str(o.id)) for o in flags]
        derived += [{"reference": self.response}] if self.response is not None else []
        body: dict[str, Any] = {
            "code": {"coding": [self.coding("observation", own.code, own.display, versioned=False)]},
            "valueCodeableConcept": {"coding": codings, "text": words.urgency_name(level)},
        }
        if derived:
            body["derivedFrom"] = derived
        return self.observation("urgency", "", body)

    def risk(self, basis: list[Observation]) -> RiskAssessment:
        method = self.terms.concepts.method[0]
        advice = "\n".join(item.text for item in self.a.advice)
        return RiskAssessment.model_validate(
            {
                "resourceType": "RiskAssessment",
                "id": self.id("risk"),
                "meta": self.meta,
                "status": "final",
                "subject": self.subject,
                "occurrenceDateTime": self.when,
                "method": {"coding": [self.coding("method", method.code, method.display)]},
                "performer": _ref(self.device_id),
                "basis": [_ref(str(o.id)) for o in basis] or None,
                "prediction": [self.prediction(c) for c in self.a.conditions] or None,
                "mitigation": advice or None,
            }
        )

    def prediction(self, c: ConditionResult) -> dict[str, Any]:
        band = self.terms.risk_band(c.probability)
        icd = [{"system": self.terms.systems.icd10cm, "code": code} for code in c.icd10]
        return {
            "outcome": {"coding": [*icd, self.coding("cause", c.id, c.name)], "text": c.name},
            "probabilityDecimal": percent(c.probability),
            "qualitativeRisk": {
                "coding": [
                    {
                        "system": self.terms.systems.risk_probability,
                        "code": band.code,
                        "display": band.display,
                    }
                ]
            },
            "rationale": fhir_text.rationale(c.evidence_for, c.evidence_against),
        }

    def impression(self, flags: list[Observation], risk: RiskAssessment) -> ClinicalImpression:
        found = [
            {
                "itemReference": _ref(str(o.id), rule.name),
                "basis": fhir_text.rule_basis(rule.rationale, self.citations(rule.sources)),
            }
            for o, rule in zip(flags, self.a.red_flags, strict=True)
        ]
        return ClinicalImpression.model_validate(
            {
                "resourceType": "ClinicalImpression",
                "id": self.id("impression"),
                "meta": self.meta,
                "status": "completed",
                "subject": self.subject,
                "effectiveDateTime": self.when,
                "date": self.when,
                "summary": fhir_text.summary(self.kb, self.a),
                "finding": found or None,
                "prognosisReference": [_ref(str(risk.id))],
                "protocol": [self.terms.url("knowledge-base", self.kb.version)],
                "note": [{"text": item.text} for item in self.a.advice] or None,
            }
        )

    def device(self) -> Device:
        system = self.terms.identifier_system(self.terms.identifiers.kb_sha256)
        acknowledgement = f"{self.terms.hpo_acknowledgement} HPO: {self.terms.hpo_version}."
        return Device.model_validate(
            {
                "resourceType": "Device",
                "id": self.device_id,
                "meta": self.meta,
                "identifier": [{"system": system, "value": self.kb.content_hash}],
                "status": "active",
                "deviceName": [{"name": "backtriage", "type": "user-friendly-name"}],
                "version": [
                    {"type": {"text": fhir_text.version_kind("software")}, "value": __version__},
                    {"type": {"text": fhir_text.version_kind("kb")}, "value": self.kb.version},
                ],
                "note": [{"text": acknowledgement}],
            }
        )

    def provenance(self, targets: list[Resource]) -> Provenance:
        system = self.terms.identifier_system(self.terms.identifiers.kb_sha256)
        author = {
            "system": self.terms.systems.provenance_participant_type,
            "code": "author",
            "display": "Author",
        }
        return Provenance.model_validate(
            {
                "resourceType": "Provenance",
                "id": self.id("provenance"),
                "meta": self.meta,
                "target": [_ref(str(r.id)) for r in targets],
                "occurredDateTime": self.when,
                "recorded": self.when,
                "agent": [{"type": {"coding": [author]}, "who": _ref(self.device_id, "backtriage")}],
                "entity": [
                    {
                        "role": "source",
                        "what": {
                            "identifier": {"system": system, "value": self.kb.content_hash},
                            "display": fhir_text.kb_display(self.kb.version),
                        },
                    }
                ],
            }
        )
