"""An assessment as FHIR R4 resources: structure (R4B round trip), invariants (FHIRPath), codes
that exist, references that resolve, the probability scale, and the same bundle for the same input."""

from __future__ import annotations

import gettext
import json
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import fhir.resources.R4B as r4b
import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhirpathpy import evaluate
from fhirpathpy.models import models

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.errors import InvalidInputError
from backtriage.interfaces.cli_common import example_files
from backtriage.interfaces.presentation import catalogue
from backtriage.interop.fhir import assessment_bundle, assessment_resources, code_systems, percent
from backtriage.interop.terminology import load_terminology
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.engine import Engine

with warnings.catch_warnings():  # it loads its tables with importlib's legacy resource API
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm

R4 = models["r4"]
WHEN = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
EXAMPLES = ("cauda-equina", "posture", "sciatica")
HPO = re.compile(r"^HP:\d{7}$")
ICD10CM = re.compile(r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")


def assess(engine: Engine, name: str, **changes: Any) -> Assessment:
    data = json.loads(example_files()[name].read_text()) | changes
    return engine.assess(Case.from_mapping(data))


def bundle_json(kb: KnowledgeBase, a: Assessment, **kwargs: Any) -> dict[str, Any]:
    bundle = assessment_bundle(kb, a, when=WHEN, **kwargs)
    return json.loads(bundle.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=EXAMPLES)
def example(request: pytest.FixtureRequest, engine: Engine) -> tuple[Assessment, dict[str, Any]]:
    a = assess(engine, request.param)
    return a, bundle_json(engine.kb, a)


def resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in `node`, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def by_code(bundle: dict[str, Any], system_end: str) -> dict[str, dict[str, Any]]:
    """Observations by their backtriage code in the CodeSystem whose url ends with `system_end`."""
    found = {}
    for o in resources(bundle, "Observation"):
        for c in o["code"]["coding"]:
            if c["system"].endswith(system_end):
                found[c["code"]] = o
    return found


# ---- structure -------------------------------------------------------------------------------
def test_every_resource_and_the_bundle_round_trip_through_the_r4b_models(
    example: tuple[Assessment, dict[str, Any]],
) -> None:
    _, bundle = example
    for resource in [bundle, *resources(bundle)]:
        model = r4b.get_fhir_model_class(resource["resourceType"])
        again = json.loads(model.model_validate(resource).model_dump_json(exclude_none=True))
        assert again == resource


def test_the_bundle_holds_one_resource_of_each_kind_and_an_observation_per_state(
    example: tuple[Assessment, dict[str, Any]],
) -> None:
    a, bundle = example
    assert bundle["type"] == "collection"
    kinds = [r["resourceType"] for r in resources(bundle)]
    for kind in ("RiskAssessment", "ClinicalImpression", "Device", "Provenance"):
        assert kinds.count(kind) == 1
    assert kinds.count("Observation") == len(a.findings) + len(a.red_flags) + 1
    assert set(by_code(bundle, "/CodeSystem/finding")) == {f.id for f in a.findings}
    assert set(by_code(bundle, "/CodeSystem/red-flag")) == {r.id for r in a.red_flags}
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"


def test_every_resource_names_the_knowledge_base_it_came_from(
    kb: KnowledgeBase, example: tuple[Assessment, dict[str, Any]]
) -> None:
    _, bundle = example
    source = f"urn:backtriage:kb:{kb.version}#{kb.content_hash}"
    for resource in [bundle, *resources(bundle)]:
        assert resource["meta"]["source"] == source
    device = resources(bundle, "Device")[0]
    assert device["identifier"] == [
        {"system": "https://fhir.backtriage.org/kb-sha256", "value": kb.content_hash}
    ]
    assert {"type": {"text": "knowledge base"}, "value": kb.version} in device["version"]
    assert device["deviceName"][0]["name"] == "backtriage"
    assert "Human Phenotype Ontology" in device["note"][0]["text"]  # the HPO acknowledgement


def test_references_inside_the_bundle_all_resolve(example: tuple[Assessment, dict[str, Any]]) -> None:
    _, bundle = example
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    references = [node["reference"] for node in walk(bundle) if "reference" in node]
    assert references
    assert set(references) <= full_urls


def test_the_provenance_names_the_device_as_author_of_everything_else(
    kb: KnowledgeBase, example: tuple[Assessment, dict[str, Any]]
) -> None:
    _, bundle = example
    provenance = resources(bundle, "Provenance")[0]
    device = resources(bundle, "Device")[0]
    others = {
        f"urn:uuid:{r['id']}" for r in resources(bundle) if r["resourceType"] not in ("Device", "Provenance")
    }
    assert {t["reference"] for t in provenance["target"]} == others
    assert provenance["agent"][0]["who"]["reference"] == f"urn:uuid:{device['id']}"
    assert provenance["entity"][0]["what"]["identifier"]["value"] == kb.content_hash
    assert provenance["recorded"] == "2026-01-02T09:30:00Z"
    risk = resources(bundle, "RiskAssessment")[0]
    assert risk["performer"]["reference"] == f"urn:uuid:{device['id']}"
    assert risk["method"]["coding"][0]["version"] == kb.version


# ---- invariants ------------------------------------------------------------------------------
RAS_2 = "probability is decimal implies (probability as decimal) <= 100"
OBS_6 = "dataAbsentReason.empty() or value.empty()"
OBS_7 = "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()"


def holds(resource: dict[str, Any], expression: str) -> bool:
    return evaluate(resource, expression, {"resource": resource}, model=R4) == [True]


def test_the_invariants_can_fail() -> None:
    """The expressions and the model reject what they should, so a pass below means something."""
    too_high = {"resourceType": "RiskAssessment", "prediction": [{"probabilityDecimal": 250}]}
    assert evaluate(too_high, f"RiskAssessment.prediction.all({RAS_2})", model=R4) == [False]
    both = {"resourceType": "Observation", "valueBoolean": True, "dataAbsentReason": {"text": "x"}}
    assert not holds(both, OBS_6)


def test_risk_assessment_observations_keep_their_invariants(
    example: tuple[Assessment, dict[str, Any]],
) -> None:
    _, bundle = example
    risk = resources(bundle, "RiskAssessment")[0]
    assert evaluate(risk, f"RiskAssessment.prediction.all({RAS_2})", model=R4) == [True]
    for o in resources(bundle, "Observation"):
        assert holds(o, OBS_6) and holds(o, OBS_7)


# ---- the probability scale -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("probability", "text"),
    [(0.001, "0.1"), (0.125, "12.5"), (0.3333, "33.33"), (0.9999, "99.99"), (1.0, "100"), (0.0, "0")],
)
def test_probabilities_are_percentages_serialised_exactly(probability: float, text: str) -> None:
    value = percent(probability)
    assert value == Decimal(text)
    risk = RiskAssessment.model_validate(
        {
            "resourceType": "RiskAssessment",
            "status": "final",
            "subject": {"display": "x"},
            "prediction": [{"probabilityDecimal": value}],
        }
    )
    dumped = risk.model_dump_json(exclude_none=True)
    assert f'"probabilityDecimal":{text}}}' in dumped
    assert RiskAssessment.model_validate_json(dumped).model_dump_json(exclude_none=True) == dumped


def test_every_prediction_states_its_scale_and_a_qualitative_risk(
    example: tuple[Assessment, dict[str, Any]],
) -> None:
    a, bundle = example
    terms = load_terminology()
    predictions = resources(bundle, "RiskAssessment")[0]["prediction"]
    assert len(predictions) == len(a.conditions)
    for p, c in zip(predictions, a.conditions, strict=True):
        assert p["probabilityDecimal"] == pytest.approx(c.probability * 100, abs=0.005)
        assert p["qualitativeRisk"]["coding"][0]["code"] == terms.risk_band(c.probability).code
        assert p["rationale"].startswith("Probability in percent (0 to 100). For: ")
        assert "; Against: " in p["rationale"]
        assert p["outcome"]["text"] == c.name


def test_the_leading_cause_of_cauda_equina_is_named_with_its_codes(engine: Engine) -> None:
    a = assess(engine, "cauda-equina")
    first = resources(bundle_json(engine.kb, a), "RiskAssessment")[0]["prediction"][0]
    codes = {(c["system"].rsplit("/", 1)[-1], c["code"]) for c in first["outcome"]["coding"]}
    assert ("icd-10-cm", "G83.4") in codes and ("cause", "cauda_equina_syndrome") in codes
    assert first["qualitativeRisk"]["coding"][0]["code"] == "high"
    assert "Saddle anaesthesia" in first["rationale"].split("; Against:")[0]


# ---- codes -----------------------------------------------------------------------------------
def test_every_code_emitted_exists(kb: KnowledgeBase, example: tuple[Assessment, dict[str, Any]]) -> None:
    check_codes(kb, example[1])
    assert sum(1 for n in walk(example[1]) if "system" in n and "code" in n) > 20


def check_codes(kb: KnowledgeBase, bundle: dict[str, Any]) -> None:
    """Every coding in `bundle` names a code that exists where its system says."""
    terms = load_terminology()
    shipped = {cs.url: {c.code for c in cs.concept or []} for cs in code_systems(kb).values()}
    hpo = {code for f in kb.findings.values() for code in f.hpo}
    icd = {code for c in kb.conditions.values() for code in c.icd10}
    external = {
        terms.systems.loinc: {a.code for a in terms.answers.values()},
        terms.systems.data_absent_reason: {"asked-unknown"},
        terms.systems.risk_probability: {b.code for b in terms.qualitative_risk},
        terms.systems.act_priority: {u.act_priority for u in terms.urgency},
        terms.systems.observation_category: {"survey"},
        terms.systems.provenance_participant_type: {"author"},
    }
    codings = [n for n in walk(bundle) if "system" in n and "code" in n]
    assert codings
    for coding in codings:
        system, code = coding["system"], coding["code"]
        if system == terms.systems.hpo:
            assert HPO.match(code) and code in hpo
        elif system == terms.systems.icd10cm:
            assert ICD10CM.match(code) and code in icd and simple_icd_10_cm.is_valid_item(code)
        elif system in shipped:
            assert code in shipped[system], (system, code)
        else:
            assert code in external[system], (system, code)


def test_a_finding_is_coded_in_hpo_when_it_has_a_term(kb: KnowledgeBase, engine: Engine) -> None:
    bundle = bundle_json(kb, assess(engine, "cauda-equina"))
    saddle = by_code(bundle, "/CodeSystem/finding")["saddle_anaesthesia"]
    systems = [c["system"] for c in saddle["code"]["coding"]]
    assert systems[-1] == "https://fhir.backtriage.org/CodeSystem/finding"
    assert [c["code"] for c in saddle["code"]["coding"][:-1]] == kb.findings["saddle_anaesthesia"].hpo != []
    assert saddle["valueCodeableConcept"]["coding"][0]["code"] == "LA9633-4"  # Present
    assert saddle["category"][0]["coding"][0]["code"] == "survey"
    bowel = by_code(bundle, "/CodeSystem/finding")["bowel_dysfunction"]
    assert bowel["valueCodeableConcept"]["coding"][0]["code"] == "LA9634-2"  # Absent


def test_an_unknown_answer_has_a_data_absent_reason_and_no_value(kb: KnowledgeBase, engine: Engine) -> None:
    a = assess(engine, "sciatica", fever=None)
    assert any(f.id == "fever" and f.present is None for f in a.findings)
    fever = by_code(bundle_json(kb, a), "/CodeSystem/finding")["fever"]
    assert fever["dataAbsentReason"]["coding"][0]["code"] == "asked-unknown"
    assert not [key for key in fever if key.startswith("value")]
    assert holds(fever, OBS_6)


def test_red_flags_and_urgency_are_observations_the_impression_points_to(
    kb: KnowledgeBase, engine: Engine
) -> None:
    a = assess(engine, "cauda-equina")
    bundle = bundle_json(kb, a)
    flags = by_code(bundle, "/CodeSystem/red-flag")
    findings = by_code(bundle, "/CodeSystem/finding")
    rule = a.red_flags[0]
    flag = flags[rule.id]
    assert flag["valueCodeableConcept"]["coding"][0]["code"] == "LA9633-4"
    assert flag["code"]["coding"][0]["display"] == rule.name
    assert a.sources[rule.sources[0]] in flag["note"][0]["text"]
    assert {d["reference"] for d in flag["derivedFrom"]} == {
        f"urn:uuid:{findings[f]['id']}" for f in rule.findings
    }

    urgency = by_code(bundle, "/CodeSystem/observation")["triage-urgency"]
    codes = [(c["system"].rsplit("/", 1)[-1], c["code"]) for c in urgency["valueCodeableConcept"]["coding"]]
    assert codes == [("urgency", "emergency"), ("v3-ActPriority", "EM")]

    impression = resources(bundle, "ClinicalImpression")[0]
    assert [f["itemReference"]["reference"] for f in impression["finding"]] == [
        f"urn:uuid:{flags[r.id]['id']}" for r in a.red_flags
    ]
    assert impression["finding"][0]["basis"].startswith(rule.rationale)
    risk = resources(bundle, "RiskAssessment")[0]
    assert impression["prognosisReference"] == [{"reference": f"urn:uuid:{risk['id']}"}]
    assert impression["protocol"] == [f"https://fhir.backtriage.org/knowledge-base/{kb.version}"]
    assert impression["summary"].startswith("Emergency: call 999 now.")
    assert impression["status"] == "completed"


def test_self_care_has_no_act_priority_coding(kb: KnowledgeBase, engine: Engine) -> None:
    a = assess(engine, "posture")
    assert a.urgency.value == "self_care" and not a.red_flags
    urgency = by_code(bundle_json(kb, a), "/CodeSystem/observation")["triage-urgency"]
    assert [c["code"] for c in urgency["valueCodeableConcept"]["coding"]] == ["self_care"]


# ---- subject, questionnaire response, time -----------------------------------------------------
def test_without_a_subject_every_resource_names_the_same_unidentified_person(
    example: tuple[Assessment, dict[str, Any]],
) -> None:
    _, bundle = example
    subjects = [r["subject"] for r in resources(bundle) if "subject" in r]
    assert len(subjects) == len(resources(bundle)) - 2  # all but the Device and the Provenance
    assert all(s == subjects[0] for s in subjects)
    assert subjects[0]["display"] == "unidentified person" and "reference" not in subjects[0]
    assert subjects[0]["identifier"]["system"] == "https://fhir.backtriage.org/anonymous-subject"


def test_a_subject_and_questionnaire_response_are_referred_to(kb: KnowledgeBase, engine: Engine) -> None:
    a = assess(engine, "sciatica")
    bundle = bundle_json(kb, a, subject="Patient/123", questionnaire_response="QuestionnaireResponse/qr-1")
    for r in resources(bundle):
        if "subject" in r:
            assert r["subject"] == {"reference": "Patient/123"}
    for o in by_code(bundle, "/CodeSystem/finding").values():
        assert o["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr-1"}]
    urgency = by_code(bundle, "/CodeSystem/observation")["triage-urgency"]
    assert {"reference": "QuestionnaireResponse/qr-1"} in urgency["derivedFrom"]


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("subject", "Practitioner/1"),
        ("subject", "Patient/has space"),
        ("questionnaire_response", "Observation/1"),
        ("when", datetime(2026, 1, 2, 9, 30)),
    ],
)
def test_bad_references_and_a_time_without_zone_are_refused_without_echo(
    kb: KnowledgeBase, engine: Engine, argument: str, value: Any
) -> None:
    a = assess(engine, "posture")
    with pytest.raises(InvalidInputError) as caught:
        assessment_resources(kb, a, **{argument: value})
    assert str(value) not in str(caught.value)


def test_the_same_input_and_time_give_the_same_bundle(kb: KnowledgeBase, engine: Engine) -> None:
    a = assess(engine, "cauda-equina")
    first, again = bundle_json(kb, a), bundle_json(kb, assess(engine, "cauda-equina"))
    assert first == again
    later = json.loads(
        assessment_bundle(kb, a, when=WHEN + timedelta(minutes=1)).model_dump_json(exclude_none=True)
    )
    assert later["id"] != first["id"]
    assert resources(later, "Device")[0]["id"] == resources(first, "Device")[0]["id"]  # one device
    assert resources(bundle_json(kb, a, subject="Patient/9"), "Device") == resources(first, "Device")


def test_the_example_in_the_docs_is_valid_fhir_with_codes_that_exist(kb: KnowledgeBase) -> None:
    """docs/integrating.md shows an excerpt made by running the code; it must stay valid."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "integrating.md").read_text()
    section = text.split("## FHIR R4 resources", 1)[1]
    excerpt = json.loads(section.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert [e["resource"]["resourceType"] for e in excerpt["entry"]][:2] == ["RiskAssessment", "Observation"]
    for resource in [excerpt, *resources(excerpt)]:
        model = r4b.get_fhir_model_class(resource["resourceType"])
        assert json.loads(model.model_validate(resource).model_dump_json(exclude_none=True)) == resource
    check_codes(kb, excerpt)
    # The excerpt names the knowledge base it was made with (any version: the docs need not be
    # remade for every change of the data, only when the shape of the output changes).
    assert re.fullmatch(r"urn:backtriage:kb:\d+\.\d+\.\d+#[0-9a-f]{64}", excerpt["meta"]["source"])


def test_the_words_come_from_the_message_catalogue(kb: KnowledgeBase, engine: Engine) -> None:
    class Marked(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return f"<<{message}>>"

    a = assess(engine, "cauda-equina")
    with catalogue.using(Marked()):
        bundle = bundle_json(kb, a)
    risk = resources(bundle, "RiskAssessment")[0]
    assert risk["subject"]["display"] == "<<unidentified person>>"
    assert risk["prediction"][0]["rationale"].startswith("<<Probability in percent")
    assert resources(bundle, "ClinicalImpression")[0]["summary"].startswith("<<")
