"""The CDS Hooks services: what discovery lists, and the one card a hook call gets.

One service id per hook (`back-numbness-patient-view`, `back-numbness-encounter-start`): the
2.0 spec ties an id to one hook, and one id each keeps the EHR's configuration and the feedback
plain. Both read the record the same way.

A card appears only when there is something to say: a red flag fires, or the record shows a
symptom, pattern or examination finding of back numbness the knowledge base knows (history and
demographics alone are not enough). Otherwise the answer is `{"cards": []}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from fhir.resources.R4B.condition import Condition as FhirCondition

from backtriage.domain.assessment import Assessment, ConditionResult
from backtriage.domain.case import Case, Sex
from backtriage.interfaces.presentation import cards, languages, localise
from backtriage.interop.cds_hooks.models import (
    Action,
    Card,
    CdsResponse,
    Coding,
    Discovery,
    HookRequest,
    Link,
    ServiceDefinition,
    Source,
    Suggestion,
)
from backtriage.interop.cds_hooks.prefetch import PREFETCH, Prefetched
from backtriage.interop.cds_hooks.record import Origin, Record, read_record
from backtriage.interop.terminology import Terminology, load_terminology
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import FindingGroup
from backtriage.service import TriageService

__all__ = ["SERVICES", "Evidence", "discovery", "respond"]

#: Service id -> the hook it answers.
SERVICES: dict[str, str] = {
    "back-numbness-patient-view": "patient-view",
    "back-numbness-encounter-start": "encounter-start",
}
Indicator = Literal["info", "warning", "critical"]
#: Findings that alone never make a card: who the person is and what happened before.
_CONTEXT_ONLY = frozenset({FindingGroup.DEMOGRAPHIC, FindingGroup.HISTORY})


def discovery() -> Discovery:
    return Discovery(
        services=[
            ServiceDefinition(
                hook=hook,
                title=cards.service_title(hook),
                description=cards.service_description(hook),
                id=service_id,
                prefetch=dict(PREFETCH),
                usageRequirements=cards.usage_requirements(),
            )
            for service_id, hook in SERVICES.items()
        ]
    )


@dataclass(frozen=True)
class Evidence:
    """The answers the card rests on and where each was read."""

    answers: dict[str, bool]
    origins: dict[str, Origin]
    age: int | None
    sex: Sex | None


def _merge(record: Record, kb: KnowledgeBase) -> Evidence:
    """Observations and the note together: for each finding the latest word wins, and when both
    are as recent (or undated), present wins, so a red flag is never talked away."""
    answers = {f: present for f, (present, _) in record.observed.items()}
    origins = {f: origin for f, (_, origin) in record.observed.items()}
    age, sex = record.age, record.sex
    if record.note and record.note_origin is not None:
        from backtriage.text import understand

        found = understand(record.note, kb=kb)
        note = record.note_origin
        for finding, present in found.answers.items():
            held = origins.get(finding)
            if held is None or _wins((note, present), (held, answers[finding])):
                answers[finding], origins[finding] = present, note
        if found.reading is not None:
            age = age if age is not None else found.reading.age
            if sex is None and found.reading.sex in ("female", "male"):
                sex = Sex(found.reading.sex)
    return Evidence(answers, origins, age, sex)


def _wins(new: tuple[Origin, bool], old: tuple[Origin, bool]) -> bool:
    (new_origin, new_present), (old_origin, old_present) = new, old
    if new_origin.when is not None and old_origin.when is not None and new_origin.when != old_origin.when:
        return new_origin.when > old_origin.when
    return new_present and not old_present


def _worth_a_card(kb: KnowledgeBase, a: Assessment, evidence: Evidence) -> bool:
    if a.red_flags:
        return True
    return any(
        present and f in kb.findings and kb.findings[f].group not in _CONTEXT_ONLY
        for f, present in evidence.answers.items()
    )


def respond(
    triage: TriageService,
    request: HookRequest,
    prefetched: Prefetched,
    link_base: str,
    today: date,
    language: str = languages.DEFAULT_LANGUAGE,
) -> CdsResponse:
    """Read the record, assess it and answer with one card, or none when it says nothing about
    back numbness. The assessment is written to the audit store with the findings read (the
    note itself stays in the EHR). The card is worded in `language` (the EHR's Accept-Language,
    else the service's); its codes are the same in every language."""
    kb, terms = triage.engine.kb, load_terminology()
    patient_id = request.context.patientId
    record = read_record(prefetched.resources, patient_id, kb, terms, today)
    evidence = _merge(record, kb)
    if not evidence.answers:
        return CdsResponse(cards=[])
    known = {f.id for f in kb.findings.values() if f.derived_from is None}
    case = Case(
        answers={f: v for f, v in evidence.answers.items() if f in known}, age=evidence.age, sex=evidence.sex
    )
    assessment = triage.assess(case)
    if not _worth_a_card(kb, assessment, evidence):
        return CdsResponse(cards=[])
    facts = cards.CardFacts(
        seen={
            f: cards.Seen(o.kind, o.when.date() if o.when is not None else None)
            for f, o in evidence.origins.items()
        },
        diagnosed=record.diagnosed,
        unreadable=record.unreadable,
        acknowledgement=terms.hpo_acknowledgement,
    )
    if language != languages.DEFAULT_LANGUAGE:
        kb = languages.knowledge(kb, language)
        assessment = localise.assessment(kb, assessment, assessment.emergency_number)
    with languages.speaking(language):
        card = _card(kb, terms, assessment, facts, evidence, request, link_base)
    return CdsResponse(cards=[card])


def _card(
    kb: KnowledgeBase,
    terms: Terminology,
    a: Assessment,
    facts: cards.CardFacts,
    evidence: Evidence,
    request: HookRequest,
    link_base: str,
) -> Card:
    card_id = str(uuid.uuid4())
    lead = a.conditions[0] if a.conditions else None
    diagnosed = {c for c, _ in facts.diagnosed}
    suggestions = None
    if lead is not None and lead.id not in diagnosed:
        suggestions = [_suggestion(kb, terms, a, lead, evidence, request)]
    return Card(
        uuid=card_id,
        summary=cards.summary(kb, a),
        detail=cards.detail(kb, a, facts),
        indicator=cast(Indicator, terms.urgency_concept(a.urgency).cds_indicator),
        source=Source(
            label=cards.source_label(kb.version),
            url=terms.cds_hooks.docs_url,
            topic=Coding(
                system=terms.url("CodeSystem", "cds-topic"),
                code=terms.cds_hooks.topic,
                display=cards.topic_display(),
            ),
        ),
        suggestions=suggestions,
        selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=[
            Coding(
                system=terms.url("CodeSystem", "cds-override-reason"),
                code=code,
                display=cards.override_reason(code),
            )
            for code in terms.cds_hooks.override_reasons
        ],
        # The page's SMART launch; appContext is the card's id only: opaque, never about the patient.
        links=[
            Link(label=cards.link_label(), url=f"{link_base}/smart/launch", type="smart", appContext=card_id)
        ],
        extension={"org.backtriage.kb": {"version": kb.version, "sha256": kb.content_hash}},
    )


def _suggestion(
    kb: KnowledgeBase,
    terms: Terminology,
    a: Assessment,
    lead: ConditionResult,
    evidence: Evidence,
    request: HookRequest,
) -> Suggestion:
    provisional = terms.risk_band(lead.probability).code == "high"
    resource = condition_resource(kb, terms, a, lead, evidence, request, provisional)
    return Suggestion(
        label=cards.suggestion_label(lead, provisional),
        uuid=str(uuid.uuid4()),
        actions=[Action(type="create", description=cards.action_description(lead), resource=resource)],
    )


def condition_resource(
    kb: KnowledgeBase,
    terms: Terminology,
    a: Assessment,
    lead: ConditionResult,
    evidence: Evidence,
    request: HookRequest,
    provisional: bool,
) -> dict[str, Any]:
    """The suggested Condition (FHIR R4): a differential or provisional encounter diagnosis coded
    in ICD-10-CM, with the present findings that support it as evidence and those against it in
    a note (R4 evidence holds supporting findings only)."""
    systems = terms.systems
    finding_system = terms.url("CodeSystem", "finding")
    support = []
    for e in lead.evidence_for:
        if not e.present or e.finding not in kb.findings:
            continue
        f = kb.findings[e.finding]
        codings = [{"system": systems.hpo, "code": code} for code in f.hpo]
        codings.append({"system": finding_system, "code": f.id, "display": f.label})
        item: dict[str, Any] = {"code": [{"coding": codings, "text": f.label}]}
        origin = evidence.origins.get(f.id)
        if origin is not None and origin.reference is not None:
            item["detail"] = [{"reference": origin.reference}]
        support.append(item)
    notes = [{"text": cards.condition_note(lead, kb.version)}]
    against = cards.against_note(kb, lead)
    if against:
        notes.append({"text": against})
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": systems.condition_clinical, "code": "active"}]},
        "verificationStatus": {
            "coding": [
                {
                    "system": systems.condition_verification,
                    "code": "provisional" if provisional else "differential",
                }
            ]
        },
        "category": [{"coding": [{"system": systems.condition_category, "code": "encounter-diagnosis"}]}],
        "code": {
            "coding": [
                {"system": systems.icd10cm, "code": lead.icd10[0]},
                {"system": terms.url("CodeSystem", "cause"), "code": lead.id, "display": lead.name},
            ],
            "text": lead.name,
        },
        "subject": {"reference": f"Patient/{request.context.patientId}"},
    }
    if request.context.encounterId:
        resource["encounter"] = {"reference": f"Encounter/{request.context.encounterId}"}
    if support:
        resource["evidence"] = support
    resource["note"] = notes
    FhirCondition.model_validate(resource)  # a suggestion the EHR cannot store is a bug here
    return resource
