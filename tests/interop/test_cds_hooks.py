"""The CDS Hooks service, black-box through HTTP with a fake EHR (signed JWTs, respx for its JWKS
and FHIR server; no network): discovery, cards from prefetched records, prefetch semantics,
suggestions, feedback."""

from __future__ import annotations

import gettext
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import respx
from fastapi.testclient import TestClient
from fhir.resources.R4B.condition import Condition
from fhirpathpy import evaluate as fhirpath
from fhirpathpy.models import models as fhirpath_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces.presentation import catalogue
from backtriage.interop.cds_hooks.prefetch import PREFETCH
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.reasoning.engine import default_engine
from backtriage.storage import AuditStore
from tests.interop.fake_ehr import keys
from tests.interop.fake_ehr.cds import (
    DATA,
    ENCOUNTER_START,
    FHIR_BASE,
    PATIENT_VIEW,
    PUBLIC_URL,
    FakeFhirServer,
    auth,
    bundle,
    client_for,
    example,
    finding_observation,
    hook_call,
    url,
)

KB = load_knowledge_base()
INDICATOR_RANK = {"info": 0, "warning": 1, "critical": 2}
#: The indicator each urgency must reach at least (the terminology's mapping).
LEAST_INDICATOR = {
    UrgencyLevel.EMERGENCY: "critical",
    UrgencyLevel.URGENT: "warning",
    UrgencyLevel.ROUTINE: "info",
    UrgencyLevel.SELF_CARE: "info",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    s = AuditStore(f"sqlite:///{tmp_path / 'cds.db'}")
    s.upgrade()
    return s


@pytest.fixture
def ehr() -> Iterator[respx.Router]:
    """The EHR's JWKS; every other outgoing request must be mocked by the test."""
    with respx.mock(assert_all_called=False) as router:
        keys.mock_jwks(router)
        yield router


@pytest.fixture
def client(store: AuditStore, ehr: respx.Router) -> Iterator[TestClient]:
    with client_for(store) as c:
        yield c


def call(c: TestClient, body: dict[str, Any], service_id: str = PATIENT_VIEW, **claims: Any) -> Any:
    return c.post(f"/cds-services/{service_id}", json=body, headers=auth(url(service_id), **claims))


def only_card(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert len(cards) == 1
    return cards[0]  # type: ignore[no-any-return]


# ---- discovery -----------------------------------------------------------------------------------
def test_discovery_is_public_and_lists_one_service_per_hook(client: TestClient) -> None:
    r = client.get("/cds-services")  # no JWT: discovery is public by decision
    assert r.status_code == 200
    services = {s["id"]: s for s in r.json()["services"]}
    assert {s: services[s]["hook"] for s in services} == {
        PATIENT_VIEW: "patient-view",
        ENCOUNTER_START: "encounter-start",
    }
    for s in services.values():
        assert s["title"] and s["description"]
        assert s["prefetch"] == {
            "patient": "Patient/{{context.patientId}}",
            "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
            "observations": "Observation?patient={{context.patientId}}&category=survey&_sort=-date&_count=50",
            "note": "DocumentReference?patient={{context.patientId}}&_sort=-date&_count=1",
        }
        assert None not in s.values()  # the spec forbids null
    assert client.get("/cds-services", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 200


# ---- cards from the spec-shaped examples -------------------------------------------------------------
def normalised(cards: dict[str, Any]) -> dict[str, Any]:
    """A response with what changes on every call (uuids) or with every knowledge-base edit
    (its version and hash) replaced by placeholders."""
    text = json.dumps(cards, indent=2, ensure_ascii=False)
    text = UUID.sub("<uuid>", text).replace(KB.content_hash, "<kb-sha256>")
    text = re.sub(rf"(?<![\d.]){re.escape(KB.version)}(?![\d.])", "<kb-version>", text)
    return json.loads(text)  # type: ignore[no-any-return]


EXAMPLES = [("patient-view-saddle", 52), ("patient-view-posture", 34), ("patient-view-unrelated", 65)]


@pytest.mark.parametrize(("name", "age"), EXAMPLES)
def test_examples_give_their_golden_cards(client: TestClient, name: str, age: int) -> None:
    """Set BACKTRIAGE_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change."""
    r = call(client, example(name, age))
    assert r.status_code == 200, r.text
    got = normalised(r.json())
    golden = DATA / f"{name}.cards.json"
    if os.environ.get("BACKTRIAGE_UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(golden.read_text())


def test_saddle_numbness_and_retention_in_a_note_give_a_critical_card(client: TestClient) -> None:
    card = only_card(call(client, example("patient-view-saddle", 52)))
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Emergency:") and len(card["summary"]) < 140
    assert "Saddle numbness with new bladder or bowel trouble" in card["detail"]
    assert "(note of 2026-12-05)" in card["detail"]  # where the red flag was read
    assert "gettingitrightfirsttime.co.uk" in card["detail"]  # its source, as a link
    assert "Already diagnosed in the record: Lumbar disc herniation" in card["detail"]
    assert card["source"]["label"] == f"backtriage KB {KB.version}"
    assert card["extension"] == {"org.backtriage.kb": {"version": KB.version, "sha256": KB.content_hash}}
    link = card["links"][0]
    assert link["type"] == "smart" and link["url"] == f"{PUBLIC_URL}/smart/launch"
    assert link["appContext"] == card["uuid"]  # opaque: nothing about the patient
    assert all(r["display"] for r in card["overrideReasons"])


def test_the_card_speaks_the_ehrs_language_with_the_same_codes(client: TestClient) -> None:
    """Accept-Language: es gives the card in Spanish; its indicator, codes and links do not change;
    a language backtriage does not speak falls back to the service's (English here)."""
    body = example("patient-view-saddle", 52)
    english = only_card(call(client, body))
    url_ = url(PATIENT_VIEW)
    spanish = only_card(
        client.post(
            f"/cds-services/{PATIENT_VIEW}", json=body, headers={**auth(url_), "Accept-Language": "es-ES"}
        )
    )
    assert spanish["indicator"] == english["indicator"] == "critical"
    assert spanish["summary"] != english["summary"] and len(spanish["summary"]) < 140
    assert spanish["summary"].startswith("Emergencia:")
    assert "1. Síndrome de cola de caballo (G83.4)" in spanish["detail"]  # sources keep their own titles
    assert [s["resources"] if "resources" in s else None for s in spanish.get("suggestions", [])] == [
        s["resources"] if "resources" in s else None for s in english.get("suggestions", [])
    ]
    assert spanish["links"][0]["url"] == english["links"][0]["url"]
    french = only_card(
        client.post(
            f"/cds-services/{PATIENT_VIEW}", json=body, headers={**auth(url_), "Accept-Language": "fr"}
        )
    )
    assert french["summary"] == english["summary"]


def test_a_posture_story_gives_at_most_an_info_card(client: TestClient) -> None:
    cards = call(client, example("patient-view-posture", 34)).json()["cards"]
    assert all(c["indicator"] == "info" for c in cards)
    if cards:
        assert "Positional nerve compression" in cards[0]["detail"]


def test_a_record_with_nothing_about_the_back_gives_no_card(client: TestClient) -> None:
    assert call(client, example("patient-view-unrelated", 65)).json() == {"cards": []}


def test_encounter_start_needs_an_encounter_and_answers_like_patient_view(client: TestClient) -> None:
    body = example("patient-view-saddle", 52) | {"hook": "encounter-start"}
    assert only_card(call(client, body, ENCOUNTER_START))["indicator"] == "critical"
    body["context"] = {k: v for k, v in body["context"].items() if k != "encounterId"}
    r = call(client, body, ENCOUNTER_START)
    assert r.status_code == 422 and r.json()["error"]["field"] == "context"
    r = call(client, example("patient-view-saddle", 52), ENCOUNTER_START)  # hook: patient-view
    assert r.status_code == 422 and r.json()["error"]["field"] == "hook"


def test_unknown_service_is_404(client: TestClient) -> None:
    r = client.post("/cds-services/nope", json=hook_call(), headers=auth(url("nope")))
    assert r.status_code == 404


def test_patient_ids_are_fhir_ids_only(client: TestClient) -> None:
    """The id goes into FHIR query URLs, so nothing that could change a query is taken."""
    r = call(client, hook_call(patient_id="1&_include=*"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "context.patientId"


# ---- suggestions ---------------------------------------------------------------------------------
#: FHIR R4 Condition invariants, as the specification writes them.
CONDITION_INVARIANTS = {
    "con-3": "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/"
    "CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or "
    "category.select($this='problem-list-item').empty()",
    "con-4": "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/"
    "condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    "con-5": "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/"
    "condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
}


def _broken_invariants(condition: dict[str, Any]) -> list[str]:
    r4 = fhirpath_models["r4"]
    return [
        name
        for name, rule in CONDITION_INVARIANTS.items()
        if fhirpath(condition, f"Condition.all({rule})", model=r4) != [True]
    ]


def test_the_condition_invariants_can_fail() -> None:
    abated = {
        "resourceType": "Condition",
        "abatementString": "gone",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
    }
    assert _broken_invariants(abated) == ["con-4"]


def test_the_suggestion_is_a_valid_r4_condition_with_supporting_evidence_only(client: TestClient) -> None:
    body = example("patient-view-posture", 34)
    body["prefetch"]["observations"] = bundle(
        finding_observation("pat-posture", "persistent", when="2026-12-03T14:00:00Z"),
        finding_observation("pat-posture", "leg_weakness", present=False, when="2026-12-03T14:00:00Z"),
    )
    card = only_card(call(client, body))
    assert card["selectionBehavior"] == "at-most-one"
    (suggestion,) = card["suggestions"]
    assert UUID.fullmatch(suggestion["uuid"]) and suggestion["uuid"] != card["uuid"]
    (action,) = suggestion["actions"]
    assert action["type"] == "create"
    condition = Condition.model_validate(action["resource"])
    assert _broken_invariants(action["resource"]) == []  # con-3, con-4, con-5
    lead = KB.conditions["positional_nerve_compression"]
    assert condition.code.coding[0].system == "http://hl7.org/fhir/sid/icd-10-cm"
    assert condition.code.coding[0].code == lead.icd10[0]
    assert condition.verificationStatus.coding[0].code in {"differential", "provisional"}
    assert condition.category[0].coding[0].code == "encounter-diagnosis"
    assert condition.subject.reference == "Patient/pat-posture"
    assert condition.encounter.reference == "Encounter/enc-1"
    supporting = {c.code for e in condition.evidence for cc in e.code for c in cc.coding}
    assert {"posture_related", "resolves_with_movement"} <= supporting
    assert not {"persistent", "leg_weakness"} & supporting  # evidence holds supporting findings only
    details = {d.reference for e in condition.evidence for d in e.detail or []}
    assert details == {"DocumentReference/note-2"}  # where the supporting findings were read
    against = [n.text for n in condition.note if n.text.startswith("Against:")]
    assert against == ["Against: numbness is persistent (present, which makes this cause less likely)."]


def test_no_suggestion_for_a_cause_already_diagnosed(client: TestClient) -> None:
    body = example("patient-view-saddle", 52)
    body["prefetch"]["conditions"] = bundle(
        {
            "resourceType": "Condition",
            "id": "ces",
            "clinicalStatus": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
                ]
            },
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G83.4"}]},
            "subject": {"reference": "Patient/pat-saddle"},
        }
    )
    card = only_card(call(client, body))
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert "Cauda equina syndrome (G83.4)" in card["detail"].split("Already diagnosed")[1]


# ---- what the record says -------------------------------------------------------------------------
def observations_only(*observations: dict[str, Any], age: int = 45) -> dict[str, Any]:
    return hook_call(
        prefetch={
            "patient": {
                "resourceType": "Patient",
                "id": "pat-1",
                "gender": "female",
                "birthDate": f"{date.today().year - age}",
            },
            "conditions": None,
            "observations": bundle(*observations),
            "note": None,
        }
    )


def test_observations_coded_with_hpo_or_own_codes_make_the_card(client: TestClient) -> None:
    body = observations_only(
        finding_observation("pat-1", "saddle_anaesthesia", hpo="HP:0034982"),
        finding_observation("pat-1", "bladder_dysfunction"),
    )
    card = only_card(call(client, body))
    assert card["indicator"] == "critical"
    assert "(observation of 2026-12-05)" in card["detail"]


def test_the_latest_word_wins_and_present_wins_a_tie(client: TestClient) -> None:
    note = example("patient-view-saddle", 52)["prefetch"]["note"]  # 2026-12-05: saddle numbness, retention
    later = [
        finding_observation("pat-saddle", f, present=False, when="2026-12-06T10:00:00Z")
        for f in ("saddle_anaesthesia", "bladder_dysfunction")
    ]
    body = example("patient-view-saddle", 52)
    body["prefetch"]["observations"] = bundle(*later)
    assert all(c["indicator"] != "critical" for c in call(client, body).json()["cards"])
    same_time = [
        finding_observation("pat-saddle", f, present=False, when=note["entry"][0]["resource"]["date"])
        for f in ("saddle_anaesthesia", "bladder_dysfunction")
    ]
    body["prefetch"]["observations"] = bundle(*same_time)
    assert only_card(call(client, body))["indicator"] == "critical"


def test_other_patients_and_invalid_resources_are_left_out_and_said(client: TestClient) -> None:
    theirs = finding_observation("someone-else", "saddle_anaesthesia")
    broken = finding_observation("pat-1", "bladder_dysfunction") | {"effectiveDateTime": "yesterday"}
    body = observations_only(theirs, broken, finding_observation("pat-1", "posture_related"))
    card = only_card(call(client, body))
    assert card["indicator"] == "info"
    assert "2 resources of the record could not be read" in card["detail"]


def test_history_alone_makes_no_card(client: TestClient) -> None:
    body = observations_only(
        finding_observation("pat-1", "diabetes"), finding_observation("pat-1", "osteoporosis")
    )
    assert call(client, body).json() == {"cards": []}


# ---- prefetch semantics -------------------------------------------------------------------------
def fake_fhir_for(body: dict[str, Any]) -> FakeFhirServer:
    prefetch = body["prefetch"]
    return FakeFhirServer(
        patient=prefetch["patient"],
        searches={"Observation": prefetch["observations"] or bundle(), "DocumentReference": prefetch["note"]},
    )


def test_missing_prefetch_is_fetched_from_the_trusted_fhir_server_with_the_token(
    client: TestClient, ehr: respx.Router
) -> None:
    body = example("patient-view-saddle", 52)
    server = fake_fhir_for(body)
    server.mount(ehr)
    del body["prefetch"]["note"], body["prefetch"]["observations"]
    body["fhirAuthorization"] = {
        "access_token": "fhir-token-123",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/DocumentReference.read patient/Observation.read",
        "subject": "backtriage",
    }
    card = only_card(call(client, body))
    assert card["indicator"] == "critical"
    assert sorted(r.url.path for r in server.requests) == ["/fhir/DocumentReference", "/fhir/Observation"]
    assert all(r.headers["Authorization"] == "Bearer fhir-token-123" for r in server.requests)
    observation = next(r for r in server.requests if r.url.path.endswith("Observation"))
    assert dict(observation.url.params) == {
        "patient": "pat-saddle",
        "category": "survey",
        "_sort": "-date",
        "_count": "50",
    }


def test_an_operation_outcome_is_not_data_and_is_fetched_again(client: TestClient, ehr: respx.Router) -> None:
    body = example("patient-view-saddle", 52)
    server = fake_fhir_for(body)
    server.mount(ehr)
    body["prefetch"]["note"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    r = call(client, body)
    assert r.status_code == 412 and r.json()["error"]["code"] == "prefetch_unavailable"
    assert "note" in r.json()["error"]["message"] and not server.requests
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": "x"}
    assert only_card(call(client, body))["indicator"] == "critical"
    assert [r.url.path for r in server.requests] == ["/fhir/DocumentReference"]


def test_null_prefetch_means_no_data_and_nothing_is_fetched(client: TestClient, ehr: respx.Router) -> None:
    server = FakeFhirServer(patient={"resourceType": "Patient", "id": "pat-1"})
    server.mount(ehr)
    body = hook_call(prefetch=dict.fromkeys(PREFETCH))
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    body["fhirServer"] = FHIR_BASE
    assert call(client, body).json() == {"cards": []}
    assert not server.requests


def test_the_token_never_goes_to_an_untrusted_fhir_server(client: TestClient, ehr: respx.Router) -> None:
    evil = ehr.get(url__startswith="https://evil.example.org/")
    trusted = ehr.get(url__startswith=FHIR_BASE)
    body = example("patient-view-saddle", 52)
    del body["prefetch"]["observations"]
    body["fhirServer"] = "https://evil.example.org/fhir"
    body["fhirAuthorization"] = {"access_token": "fhir-token-123", "token_type": "Bearer"}
    r = call(client, body)
    assert r.status_code == 412 and r.json()["error"]["field"] == "prefetch"
    assert not evil.called and not trusted.called


def test_missing_prefetch_without_a_token_is_412(client: TestClient) -> None:
    body = example("patient-view-saddle", 52)
    del body["prefetch"]["patient"]
    r = call(client, body)
    assert r.status_code == 412 and "patient" in r.json()["error"]["message"]


def test_a_fhir_server_that_fails_is_412(client: TestClient, ehr: respx.Router) -> None:
    ehr.get(url__startswith=f"{FHIR_BASE}/Observation").respond(500)
    body = example("patient-view-saddle", 52)
    del body["prefetch"]["observations"]
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    assert call(client, body).status_code == 412


# ---- the property: the card is never less urgent than the engine -----------------------------------
RED_FLAGS = sorted(KB.red_flag_findings)
ENGINE = default_engine()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flags=st.sets(st.sampled_from(RED_FLAGS), min_size=1, max_size=4),
    others=st.sets(st.sampled_from(sorted(f.id for f in KB.asked_findings if not f.red_flag)), max_size=3),
    age=st.integers(min_value=18, max_value=95),
    use_hpo=st.booleans(),
)
def test_the_card_is_never_less_urgent_than_the_engine(
    client: TestClient, flags: set[str], others: set[str], age: int, use_hpo: bool
) -> None:
    def observed(f: str) -> dict[str, Any]:
        hpo = KB.findings[f].hpo[0] if use_hpo and KB.findings[f].hpo else None
        return finding_observation("pat-1", f, hpo=hpo)

    body = observations_only(*(observed(f) for f in sorted(flags | others)), age=age)
    expected = ENGINE.assess(Case(answers=dict.fromkeys(flags | others, True), age=age, sex="female")).urgency
    card = only_card(call(client, body))
    assert INDICATOR_RANK[card["indicator"]] >= INDICATOR_RANK[LEAST_INDICATOR[expected]]
    if expected is UrgencyLevel.EMERGENCY:
        assert card["indicator"] == "critical"
    assert len(card["summary"]) < 140
    assert card["summary"].split(":")[0] in {"Emergency", "Urgent", "Routine", "Self-care"}


# ---- feedback ------------------------------------------------------------------------------------
FEEDBACK = {
    "feedback": [
        {
            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden",
            "overrideReason": {
                "reason": {
                    "code": "already-assessed",
                    "system": "https://fhir.backtriage.org/CodeSystem/cds-override-reason",
                },
                "userComment": "CANARY-feedback-comment",
            },
            "outcomeTimestamp": "2026-12-06T09:00:00Z",
        },
        {
            "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
            "outcomeTimestamp": "2026-12-06T09:01:00Z",
        },
    ]
}


def test_feedback_is_verified_stored_and_exported(client: TestClient, store: AuditStore) -> None:
    path = f"/cds-services/{PATIENT_VIEW}/feedback"
    assert client.post(path, json=FEEDBACK).status_code == 401
    r = client.post(path, json=FEEDBACK, headers=auth(url(feedback=True)))
    assert r.status_code == 200 and r.json() == {"stored": 2}
    rows = store.cds_feedback()
    assert [(f["card"], f["outcome"], f["issuer"], f["service"]) for f in rows] == [
        ("9368d37b-283f-44a0-93ea-547cebab93ed", "overridden", keys.ISSUER, PATIENT_VIEW),
        ("4e0a3a1e-3283-4575-ab82-028d55fe2719", "accepted", keys.ISSUER, PATIENT_VIEW),
    ]
    assert rows[1]["acceptedSuggestions"] == [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}]
    assert rows[0]["overrideReason"]["userComment"] == "CANARY-feedback-comment"
    import io

    out = io.StringIO()
    store.export(out)
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sum(1 for e in exported if e["type"] == "cds_feedback") == 2


def test_feedback_comments_are_not_kept_when_text_is_not(store: AuditStore, ehr: respx.Router) -> None:
    with client_for(store, store_text=False) as c:
        r = c.post(f"/cds-services/{PATIENT_VIEW}/feedback", json=FEEDBACK, headers=auth(url(feedback=True)))
        assert r.status_code == 200
    assert "userComment" not in store.cds_feedback()[0]["overrideReason"]


@pytest.mark.parametrize(
    "item",
    [
        {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-12-06T09:00:00Z"},  # no suggestion
        {"card": "c", "outcome": "ignored", "outcomeTimestamp": "2026-12-06T09:00:00Z"},
        {"card": "c", "outcome": "overridden"},  # no timestamp
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-12-06T09:00:00"},  # no zone
        {"card": "x" * 65, "outcome": "overridden", "outcomeTimestamp": "2026-12-06T09:00:00Z"},
    ],
)
def test_bad_feedback_is_422(client: TestClient, store: AuditStore, item: dict[str, Any]) -> None:
    r = client.post(
        f"/cds-services/{PATIENT_VIEW}/feedback", json={"feedback": [item]}, headers=auth(url(feedback=True))
    )
    assert r.status_code == 422
    assert store.cds_feedback() == []


# ---- nothing of the patient in the log --------------------------------------------------------------
def test_neither_the_note_nor_tokens_reach_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = example("patient-view-saddle", 52)
    import base64

    canary = "CANARY-3f9 numb around the back passage, cannot pass urine"
    body["prefetch"]["note"]["entry"][0]["resource"]["content"][0]["attachment"]["data"] = base64.b64encode(
        canary.encode()
    ).decode()
    body["prefetch"]["observations"] = bundle(finding_observation("someone-else", "fever"))
    header = auth("https://wrong.example.org/cds-services/x")
    with caplog.at_level(logging.DEBUG):
        assert only_card(call(client, body))["indicator"] == "critical"
        assert client.post(f"/cds-services/{PATIENT_VIEW}", json=body, headers=header).status_code == 401
    logged = caplog.text
    assert "CANARY" not in logged and header["Authorization"].split()[1] not in logged
    assert "bad_audience" in logged


# ---- words ---------------------------------------------------------------------------------------
class Bracketed(gettext.NullTranslations):
    """Every catalogue message in brackets, so words that bypass the catalogue stand out."""

    def gettext(self, message: str) -> str:
        return f"\u27e6{message}\u27e7"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"\u27e6{singular if n == 1 else plural}\u27e7"


def test_every_word_the_service_adds_comes_from_the_catalogue(client: TestClient) -> None:
    catalogue.set_default(Bracketed())
    try:
        card = only_card(call(client, example("patient-view-posture", 34)))
        services = client.get("/cds-services").json()["services"]
    finally:
        catalogue.set_default(None)

    def worded(text: str) -> bool:
        return text.startswith("\u27e6") and text.endswith("\u27e7")

    (suggestion,) = card["suggestions"]
    words = [
        card["summary"],
        card["source"]["label"],
        card["source"]["topic"]["display"],
        card["links"][0]["label"],
        suggestion["label"],
        suggestion["actions"][0]["description"],
        *(r["display"] for r in card["overrideReasons"]),
        *(n["text"] for n in suggestion["actions"][0]["resource"]["note"]),
        *(s[f] for s in services for f in ("title", "description", "usageRequirements")),
    ]
    assert all(worded(w) for w in words), [w for w in words if not worded(w)]
    assert "**\u27e6Most likely causes\u27e7**" in card["detail"]
    assert "\n\n_\u27e6backtriage gives information" in card["detail"]  # the disclaimer
