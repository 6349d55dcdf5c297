"""backtriage's terminology as FHIR resources: CodeSystems that hold every code the knowledge base
and terminology.yaml define, the urgency ValueSet and ConceptMap, and the CapabilityStatement."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import fhir.resources.R4B as r4b
import pytest
import yaml
from fhirpathpy import evaluate
from fhirpathpy.models import models

from backtriage.errors import KnowledgeBaseError
from backtriage.interop.fhir import (
    NEXT_QUESTION,
    capability_statement,
    code_systems,
    concept_maps,
    terminology_resource,
    value_sets,
)
from backtriage.interop.terminology import load_terminology
from backtriage.knowledge.loader import KnowledgeBase

R4 = models["r4"]


def as_json(resource: Any) -> dict[str, Any]:
    return json.loads(resource.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


def test_every_terminology_resource_round_trips_and_is_published_at_its_url(kb: KnowledgeBase) -> None:
    terms = load_terminology()
    served = [
        *[("CodeSystem", i, r) for i, r in code_systems(kb).items()],
        *[("ValueSet", i, r) for i, r in value_sets(kb).items()],
        *[("ConceptMap", i, r) for i, r in concept_maps(kb).items()],
    ]
    assert len(served) == 11
    for kind, resource_id, resource in served:
        data = as_json(resource)
        assert data["resourceType"] == kind and data["id"] == resource_id
        assert data["url"] == terms.url(kind, resource_id)
        assert data["status"] == "active" and data["version"] and data["date"] == terms.date
        assert as_json(r4b.get_fhir_model_class(kind).model_validate(data)) == data
        assert as_json(terminology_resource(kb, kind, resource_id)) == data


def test_code_systems_hold_every_code_complete_and_versioned(kb: KnowledgeBase) -> None:
    terms = load_terminology()
    systems = {i: as_json(r) for i, r in code_systems(kb).items()}
    codes = {i: [c["code"] for c in s["concept"]] for i, s in systems.items()}
    assert codes["urgency"] == ["emergency", "urgent", "routine", "self_care"]
    assert codes["finding"] == list(kb.findings)
    assert codes["cause"] == list(kb.conditions)
    assert codes["red-flag"] == [r.id for r in kb.rules]
    assert codes["observation"] == ["triage-urgency"] and codes["method"] == ["knowledge-base"]
    assert codes["question-option"] == [f"{q.id}.{o.id}" for q in kb.questions.values() for o in q.options]
    assert codes["cds-override-reason"] == list(terms.cds_hooks.override_reasons)
    for name, system in systems.items():
        assert system["content"] == "complete" and system["count"] == len(system["concept"])
        from_terminology = ("urgency", "observation", "cds-topic", "cds-override-reason")
        assert system["version"] == (terms.version if name in from_terminology else kb.version)
    saddle = next(c for c in systems["finding"]["concept"] if c["code"] == "saddle_anaesthesia")
    assert [p["valueCoding"]["code"] for p in saddle["property"]] == kb.findings["saddle_anaesthesia"].hpo
    ces = next(c for c in systems["cause"]["concept"] if c["code"] == "cauda_equina_syndrome")
    assert [p["valueCoding"]["code"] for p in ces["property"]] == ["G83.4"]
    assert systems["urgency"]["valueSet"] == terms.url("ValueSet", "urgency")


def test_the_value_set_takes_the_whole_urgency_code_system(kb: KnowledgeBase) -> None:
    include = as_json(value_sets(kb)["urgency"])["compose"]["include"]
    assert include == [{"system": "https://fhir.backtriage.org/CodeSystem/urgency", "version": "0.1.0"}]


def test_the_concept_map_maps_urgency_to_act_priority_and_self_care_to_nothing(kb: KnowledgeBase) -> None:
    data = as_json(concept_maps(kb)["urgency-to-act-priority"])
    group = data["group"][0]
    assert group["target"] == "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
    mapped = {e["code"]: e["target"][0] for e in group["element"]}
    assert {k: v.get("code") for k, v in mapped.items()} == {
        "emergency": "EM",
        "urgent": "UR",
        "routine": "R",
        "self_care": None,
    }
    assert mapped["self_care"]["equivalence"] == "unmatched" and mapped["self_care"]["comment"]
    # R4 cmd-1: a narrower or inexact mapping explains itself
    cmd_1 = (
        "comment.exists() or equivalence.empty() "
        "or ((equivalence != 'narrower') and (equivalence != 'inexact'))"
    )
    targets = evaluate(data, "ConceptMap.group.element.target", model=R4)
    assert targets and all(evaluate(t, cmd_1, model=R4) == [True] for t in targets)


def test_an_unknown_id_or_kind_finds_nothing(kb: KnowledgeBase) -> None:
    assert terminology_resource(kb, "CodeSystem", "nope") is None
    assert terminology_resource(kb, "Patient", "urgency") is None


def test_the_capability_statement_says_r4_and_lists_the_operation(kb: KnowledgeBase) -> None:
    data = as_json(capability_statement(kb, "https://example.org/fhir"))
    assert data["fhirVersion"] == "4.0.1"
    assert (data["status"], data["kind"], data["format"]) == ("active", "instance", ["json"])
    assert data["implementation"]["url"] == "https://example.org/fhir"
    assert data["software"]["name"] == "backtriage"
    rest = data["rest"][0]
    assert rest["mode"] == "server"
    by_type = {r["type"]: r for r in rest["resource"]}
    assert set(by_type) == {"CodeSystem", "ValueSet", "ConceptMap", "Questionnaire"}
    assert by_type["Questionnaire"]["operation"] == [{"name": "next-question", "definition": NEXT_QUESTION}]
    assert NEXT_QUESTION == "http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-next-question"
    assert as_json(r4b.get_fhir_model_class("CapabilityStatement").model_validate(data)) == data


def _terminology_copy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path / "terms"
    shutil.copytree(Path(str(resources.files("backtriage.interop") / "data")), folder)
    return folder, yaml.safe_load((folder / "terminology.yaml").read_text())


def test_the_terminology_loader_refuses_an_act_priority_without_display(tmp_path: Path) -> None:
    folder, data = _terminology_copy(tmp_path)
    data["terminology"]["urgency"][0]["act_priority_display"] = None
    (folder / "terminology.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(KnowledgeBaseError, match="act_priority_display"):
        load_terminology(folder)


def test_the_terminology_loader_refuses_unknown_keys_and_missing_concepts(tmp_path: Path) -> None:
    folder, data = _terminology_copy(tmp_path)
    data["terminology"]["identifiers"]["extra"] = "x"
    del data["terminology"]["concepts"]["method"]
    (folder / "terminology.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(KnowledgeBaseError) as caught:
        load_terminology(folder)
    problems = " | ".join(caught.value.problems)
    assert "identifiers.extra" in problems and "concepts.method" in problems
