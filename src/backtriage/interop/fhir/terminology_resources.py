"""The terminology backtriage serves, as FHIR R4 resources (R4B models): its CodeSystems (urgency,
observation and method codes from `terminology.yaml`; findings, causes and red-flag rules from
the knowledge base), the urgency ValueSet, the ConceptMap from urgency to HL7 v3 ActPriority,
and the CapabilityStatement of the /fhir endpoints.

Codes in the emitted resources point at these CodeSystems' `url`s; the knowledge base's ones
carry its version, since a new knowledge base can add or retire a code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.conceptmap import ConceptMap
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.valueset import ValueSet

from backtriage import __version__
from backtriage.interfaces.presentation import cards, fhir_text
from backtriage.interop.fhir.resources import kb_source
from backtriage.interop.terminology import Concept, Terminology, load_terminology
from backtriage.knowledge.loader import KnowledgeBase

__all__ = [
    "NEXT_QUESTION",
    "capability_statement",
    "code_systems",
    "concept_maps",
    "terminology_resource",
    "value_sets",
]

#: The SDC operation another route serves (`POST /fhir/Questionnaire/$next-question`).
NEXT_QUESTION = "http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-next-question"
#: FHIR names are computer-friendly: a capital letter, then letters and digits.
_NAMES = {
    "urgency": "BacktriageUrgency",
    "finding": "BacktriageFinding",
    "cause": "BacktriageCause",
    "red-flag": "BacktriageRedFlagRule",
    "observation": "BacktriageObservationCode",
    "method": "BacktriageMethod",
    "question-option": "BacktriageQuestionOption",
    "cds-topic": "BacktriageCdsTopic",
    "cds-override-reason": "BacktriageCdsOverrideReason",
}


def code_systems(kb: KnowledgeBase) -> dict[str, CodeSystem]:
    """Every CodeSystem backtriage mints, by id (the last part of its url)."""
    terms = load_terminology()
    urgency = [
        {"code": u.code.value, "display": u.display, "definition": u.definition} for u in terms.urgency
    ]
    findings = [
        {"code": f.id, "display": f.label} | _properties([_coding(terms.systems.hpo, code) for code in f.hpo])
        for f in kb.findings.values()
    ]
    causes = [
        {"code": c.id, "display": c.name, "definition": c.description}
        | _properties([_coding(terms.systems.icd10cm, code) for code in c.icd10])
        for c in kb.conditions.values()
    ]
    rules = [{"code": r.id, "display": r.name, "definition": r.rationale} for r in kb.rules]
    options = [
        {"code": f"{q.id}.{o.id}", "display": o.text} for q in kb.questions.values() for o in q.options
    ]
    topics = [{"code": terms.cds_hooks.topic, "display": cards.topic_display()}]
    reasons = [{"code": c, "display": cards.override_reason(c)} for c in terms.cds_hooks.override_reasons]
    systems = {
        "urgency": _code_system(kb, terms, "urgency", terms.version, urgency, value_set=True),
        "observation": _code_system(
            kb, terms, "observation", terms.version, _own(terms.concepts.observation)
        ),
        "method": _code_system(kb, terms, "method", kb.version, _own(terms.concepts.method)),
        "finding": _code_system(kb, terms, "finding", kb.version, findings, property_of="HPO"),
        "cause": _code_system(kb, terms, "cause", kb.version, causes, property_of="ICD-10-CM"),
        "red-flag": _code_system(kb, terms, "red-flag", kb.version, rules),
        "question-option": _code_system(kb, terms, "question-option", kb.version, options),
        "cds-topic": _code_system(kb, terms, "cds-topic", terms.version, topics),
        "cds-override-reason": _code_system(kb, terms, "cds-override-reason", terms.version, reasons),
    }
    return systems


def value_sets(kb: KnowledgeBase) -> dict[str, ValueSet]:
    """The ValueSets, by id: all urgency levels."""
    terms = load_terminology()
    return {
        "urgency": ValueSet.model_validate(
            {
                "resourceType": "ValueSet",
                "id": "urgency",
                "meta": {"source": kb_source(kb)},
                "url": terms.url("ValueSet", "urgency"),
                "version": terms.version,
                "name": "BacktriageUrgency",
                "title": fhir_text.value_set_title("urgency"),
                "status": "active",
                "date": terms.date,
                "compose": {
                    "include": [{"system": terms.url("CodeSystem", "urgency"), "version": terms.version}]
                },
            }
        )
    }


def concept_maps(kb: KnowledgeBase) -> dict[str, ConceptMap]:
    """The ConceptMaps, by id: urgency to v3-ActPriority (self-care has no equivalent: R4's
    `unmatched`, with a comment)."""
    terms = load_terminology()
    elements = []
    for u in terms.urgency:
        target: dict[str, Any]
        if u.act_priority is None:
            target = {"equivalence": "unmatched", "comment": fhir_text.no_match()}
        else:
            target = {"code": u.act_priority, "display": u.act_priority_display, "equivalence": "equivalent"}
        elements.append({"code": u.code.value, "display": u.display, "target": [target]})
    name = "urgency-to-act-priority"
    return {
        name: ConceptMap.model_validate(
            {
                "resourceType": "ConceptMap",
                "id": name,
                "meta": {"source": kb_source(kb)},
                "url": terms.url("ConceptMap", name),
                "version": terms.version,
                "name": "BacktriageUrgencyToActPriority",
                "title": fhir_text.concept_map_title(name),
                "status": "active",
                "date": terms.date,
                "sourceCanonical": terms.url("ValueSet", "urgency"),
                "targetCanonical": terms.systems.act_priority_value_set,
                "group": [
                    {
                        "source": terms.url("CodeSystem", "urgency"),
                        "sourceVersion": terms.version,
                        "target": terms.systems.act_priority,
                        "element": elements,
                    }
                ],
            }
        )
    }


def terminology_resource(kb: KnowledgeBase, kind: str, resource_id: str) -> Resource | None:
    """One served resource by type and id; None when there is none."""
    served: dict[str, Callable[[KnowledgeBase], Mapping[str, Resource]]] = {
        "CodeSystem": code_systems,
        "ValueSet": value_sets,
        "ConceptMap": concept_maps,
    }
    return served[kind](kb).get(resource_id) if kind in served else None


def capability_statement(kb: KnowledgeBase, base_url: str) -> CapabilityStatement:
    """What the /fhir endpoints at `base_url` offer: reading the terminology, and the SDC
    `$next-question` operation on Questionnaire. `fhirVersion` is 4.0.1 (R4), never the R4B
    models' own 4.3.0, which R4 clients refuse."""
    terms = load_terminology()
    read = [{"code": "read"}]
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "id": "backtriage",
            "meta": {"source": kb_source(kb)},
            "url": terms.url("CapabilityStatement", "backtriage"),
            "version": __version__,
            "name": "Backtriage",
            "status": "active",
            "date": terms.date,
            "description": fhir_text.capability_description(),
            "kind": "instance",
            "software": {"name": "backtriage", "version": __version__},
            "implementation": {"description": fhir_text.capability_description(), "url": base_url},
            "fhirVersion": terms.fhir_version,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {"type": "CodeSystem", "interaction": read},
                        {"type": "ValueSet", "interaction": read},
                        {"type": "ConceptMap", "interaction": read},
                        {
                            "type": "Questionnaire",
                            "operation": [{"name": "next-question", "definition": NEXT_QUESTION}],
                        },
                    ],
                }
            ],
        }
    )


def _own(concepts: tuple[Concept, ...]) -> list[dict[str, Any]]:
    return [{"code": c.code, "display": c.display, "definition": c.definition} for c in concepts]


def _coding(system: str, code: str) -> dict[str, str]:
    return {"system": system, "code": code}


def _properties(codings: list[dict[str, str]]) -> dict[str, Any]:
    """A concept's codes in another system (HPO, ICD-10-CM), as `property` entries."""
    return {"property": [{"code": "maps-to", "valueCoding": c} for c in codings]} if codings else {}


def _code_system(
    kb: KnowledgeBase,
    terms: Terminology,
    name: str,
    version: str,
    concepts: list[dict[str, Any]],
    *,
    value_set: bool = False,
    property_of: str | None = None,
) -> CodeSystem:
    body: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": name,
        "meta": {"source": kb_source(kb)},
        "url": terms.url("CodeSystem", name),
        "version": version,
        "name": _NAMES[name],
        "title": fhir_text.code_system_title(name),
        "status": "active",
        "date": terms.date,
        "description": fhir_text.code_system_description(name),
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    if value_set:
        body["valueSet"] = terms.url("ValueSet", name)
    if property_of is not None:
        body["property"] = [
            {
                "code": "maps-to",
                "description": fhir_text.maps_to(property_of),
                "type": "Coding",
            }
        ]
    return CodeSystem.model_validate(body)
