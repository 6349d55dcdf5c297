"""SMART App Launch (EHR launch) of the page against a fake EHR (respx, no network): the launch,
PKCE and state, the patient context on every request, and writing the result back."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from backtriage.interfaces.api import create_app
from backtriage.interop import smart
from backtriage.reasoning.engine import default_engine
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore
from backtriage.storage.models import InterviewRecord, SmartRecord
from tests.interop.fake_ehr.fhir_server import FakeFhirServer
from tests.interop.fake_ehr.smart_server import FHIR, FakeSmartServer

ALICE, BOB = "pat-alice", "pat-bob"


@dataclass
class World:
    client: TestClient
    store: AuditStore
    auth: FakeSmartServer
    fhir: FakeFhirServer


def _world(
    tmp_path: Path, router: respx.Router, base_url: str = "http://testserver", **settings: Any
) -> World:
    store = AuditStore(f"sqlite:///{tmp_path / 'smart.db'}")
    store.upgrade()
    config = Settings(database_url=store.url, smart_issuers=(FHIR,), **settings)
    service = TriageService(store, default_engine(config.emergency_number))
    auth = FakeSmartServer()
    fhir = FakeFhirServer(auth.tokens)
    fhir.add_patient(ALICE, "Alice Example", "1960-03-01", "female")
    fhir.add_patient(BOB, "Bob Example", "1990-07-15", "male")
    auth.install(router)
    fhir.install(router)
    return World(TestClient(create_app(config, service), base_url=base_url), store, auth, fhir)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with respx.mock(assert_all_called=False) as router:
        w = _world(tmp_path, router)
        with w.client:
            yield w


def _launch(w: World, patient: str) -> httpx.Response:
    """The EHR opens the page, the page sends the browser to sign in, the EHR sends it back."""
    r = w.client.get(w.auth.launch_url(patient), follow_redirects=False)
    assert r.status_code == 302, r.text
    return w.client.get(w.auth.approve(r.headers["location"]), follow_redirects=False)


def _post(w: World, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    return w.client.post(path, data={**(data or {}), "csrf": w.client.cookies["bt_csrf"]}, **kwargs)


def _to_the_end(w: World) -> httpx.Response:
    r = w.client.get("/interview")
    for _ in range(40):
        if str(r.url).endswith("/result"):
            return w.client.get("/result?details=1")
        choice = "none" if 'value="none"' in r.text else "unsure" if 'name="option"' in r.text else "no"
        r = _post(w, "/interview/answer", {"choice": choice})
    raise AssertionError("the interview did not end")


def _heading(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.S)
    assert match, html[:300]
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _interviews(store: AuditStore) -> list[InterviewRecord]:
    with store.reading() as s:
        return list(s.query(InterviewRecord))


# ---- the launch -----------------------------------------------------------------------------


def test_the_authorize_redirect_carries_pkce_s256_state_aud_and_the_launch(world: World) -> None:
    r = world.client.get(world.auth.launch_url(ALICE), follow_redirects=False)
    assert r.status_code == 302
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    assert q["response_type"] == "code" and q["client_id"] == "backtriage" and q["aud"] == FHIR
    assert q["redirect_uri"] == "http://testserver/smart/callback"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 43 and "patient/QuestionnaireResponse.c" in q["scope"].split()
    with world.store.reading() as s:
        kept = s.get(SmartRecord, q["state"])
        assert kept is not None and kept.kind == "launch"
        assert smart.challenge_for(kept.data["verifier"]) == q["code_challenge"]
    assert q["code_challenge"] not in r.headers.get("set-cookie", "")


def test_a_launch_starts_an_interview_for_the_patient_with_their_age_and_sex(world: World) -> None:
    r = _launch(world, ALICE)
    assert r.status_code == 303 and r.headers["location"] == "/interview"
    assert world.client.get("/interview").status_code == 200
    (record,) = _interviews(world.store)
    assert record.sex == "female" and record.age is not None and record.age >= 60
    assert world.client.cookies["bt_interview"] == record.id


def test_an_issuer_not_configured_is_refused_before_anything_is_fetched(world: World) -> None:
    url = world.auth.launch_url(ALICE, iss="https://evil.example.org/fhir")
    r = world.client.get(url, follow_redirects=False)
    assert r.status_code == 400 and "not set up to work with" in r.text
    assert "text/html" in r.headers["content-type"] and "location" not in r.headers
    assert not any(call.request.url.host == "evil.example.org" for call in respx.calls)


def test_a_launch_without_iss_or_launch_is_refused(world: World) -> None:
    assert world.client.get("/smart/launch?iss=" + FHIR).status_code == 400
    assert world.client.get("/smart/launch?launch=x").status_code == 400


def test_errors_under_smart_are_pages_not_json(world: World) -> None:
    page = world.client.get("/smart/nowhere")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


def test_a_state_is_used_once(world: World) -> None:
    r = world.client.get(world.auth.launch_url(ALICE), follow_redirects=False)
    callback = world.auth.approve(r.headers["location"])
    assert world.client.get(callback, follow_redirects=False).status_code == 303
    again = world.client.get(callback, follow_redirects=False)
    assert again.status_code == 400 and "already been used or has expired" in again.text
    assert world.auth.token_requests == 1 and len(_interviews(world.store)) == 1


def test_an_unknown_state_is_refused(world: World) -> None:
    r = world.client.get("/smart/callback?code=abc&state=" + "x" * 43, follow_redirects=False)
    assert r.status_code == 400 and world.auth.token_requests == 0


def test_a_wrong_verifier_is_refused_by_the_token_endpoint_and_shown_as_an_error(world: World) -> None:
    r = world.client.get(world.auth.launch_url(ALICE), follow_redirects=False)
    someone_elses = smart.Pkce.new().challenge
    callback = world.auth.approve(r.headers["location"], challenge=someone_elses)
    page = world.client.get(callback, follow_redirects=False)
    assert world.auth.refusals == ["code_verifier"]
    assert page.status_code == 502 and "did not answer as expected" in page.text
    assert "bt_smart=" not in page.headers.get("set-cookie", "") and _interviews(world.store) == []


def test_a_callback_in_another_browser_is_refused(world: World, tmp_path: Path) -> None:
    r = world.client.get(world.auth.launch_url(ALICE), follow_redirects=False)
    callback = world.auth.approve(r.headers["location"])
    other = TestClient(world.client.app)
    page = other.get(callback, follow_redirects=False)
    assert page.status_code == 400 and "did not keep the page" in page.text
    assert world.auth.token_requests == 0


@pytest.mark.parametrize(
    ("methods", "launches"), [(["plain"], False), ([], False), (["S256", "plain"], True), (None, True)]
)
def test_pkce_is_s256_or_nothing(world: World, methods: list[str] | None, launches: bool) -> None:
    """A server that lists its methods must list S256; one that omits the field gets S256 anyway."""
    world.auth.pkce_methods = methods
    r = world.client.get(world.auth.launch_url(ALICE), follow_redirects=False)
    if not launches:
        assert r.status_code == 502 and "location" not in r.headers
        return
    assert r.status_code == 302
    assert parse_qs(urlsplit(r.headers["location"]).query)["code_challenge_method"] == ["S256"]


def test_an_authorize_endpoint_in_clear_is_refused_for_an_https_ehr() -> None:
    async def check() -> None:
        with respx.mock() as router:
            router.get(f"{FHIR}/.well-known/smart-configuration").respond(
                json={"authorization_endpoint": "http://ehr.example.org/a", "token_endpoint": "https://x/t"}
            )
            async with httpx.AsyncClient() as client:
                with pytest.raises(smart.SmartError, match="not https"):
                    await smart.discover(FHIR, client)

    import anyio

    anyio.run(check)


def test_the_rfc_7636_example_challenge() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert smart.challenge_for(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    pair = smart.Pkce.new()
    assert 43 <= len(pair.verifier) <= 128 and pair.verifier not in repr(pair)


def test_a_token_response_without_a_patient_or_bearer_is_refused() -> None:
    good = {"access_token": "t", "token_type": "bearer", "expires_in": 60, "scope": "", "patient": "p1"}
    assert smart.parse_token_response(good).patient == "p1"
    for broken in ({"patient": None}, {"patient": "../Group/1"}, {"token_type": "mac"}, {"expires_in": 0}):
        with pytest.raises(smart.SmartError):
            smart.parse_token_response({**good, **broken})
    assert "'t'" not in repr(smart.parse_token_response(good))


# ---- scopes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "creates", "not_creates"),
    [
        ("patient/Observation.c patient/RiskAssessment.rs", {"Observation"}, {"RiskAssessment"}),
        ("patient/Observation.cruds", {"Observation"}, {"Patient"}),
        ("patient/Observation.write patient/Patient.read", {"Observation"}, {"Patient"}),
        ("patient/*.*", {"Observation", "RiskAssessment"}, set()),
        ("user/Observation.c", {"Observation"}, set()),
        ("patient/*.rs", set(), {"Observation"}),
        ("patient/Observation.c?category=survey", set(), {"Observation"}),  # a condition not checked
        ("patient/Observation.rc system/Observation.c launch", set(), {"Observation"}),  # not in order
    ],
)
def test_granted_scopes_v1_and_v2(scope: str, creates: set[str], not_creates: set[str]) -> None:
    grants = smart.Grants.parse(scope)
    assert all(grants.may_create(k) for k in creates)
    assert not any(grants.may_create(k) for k in not_creates)


def test_reading_is_granted_by_rs_and_read() -> None:
    assert smart.Grants.parse("patient/Patient.rs").may_read("Patient")
    assert smart.Grants.parse("patient/Patient.read").may_read("Patient")
    assert not smart.Grants.parse("patient/Patient.c").may_read("Patient")


# ---- patient context on every request -------------------------------------------------------


def test_a_second_launch_for_another_patient_never_shows_the_first_interview(world: World) -> None:
    _launch(world, ALICE)
    first = world.client.get("/interview")
    alice_interview, alice_csrf = world.client.cookies["bt_interview"], world.client.cookies["bt_csrf"]
    _launch(world, BOB)
    bob_interview = world.client.cookies["bt_interview"]
    assert bob_interview != alice_interview
    # The page still open for Alice cannot answer: its form token is no longer the browser's.
    stale = world.client.post("/interview/answer", data={"choice": "no", "csrf": alice_csrf})
    assert stale.status_code == 403
    alice = next(r for r in _interviews(world.store) if r.id == alice_interview)
    assert alice.asked == []
    # Alice's interview put back into the browser with Bob's session: refused, never shown.
    world.client.cookies.set("bt_interview", alice_interview)
    for path in ("/interview", "/result", "/summary.txt"):
        page = world.client.get(path, follow_redirects=False)
        assert page.status_code == 403 and "does not belong to the patient" in page.text, path
        assert alice_interview not in page.text
    assert first.status_code == 200
    # Bob's own interview is still his to go on with.
    world.client.cookies.set("bt_interview", bob_interview)
    assert world.client.get("/interview").status_code == 200


def test_a_session_that_has_ended_is_refused_and_forgotten(world: World) -> None:
    _launch(world, ALICE)
    session = world.client.cookies["bt_smart"]
    data = world.store.get_smart(session, "session")
    assert data is not None
    world.store.put_smart(session, "session", data, datetime.now(UTC) - timedelta(seconds=1))
    page = world.client.get("/interview", follow_redirects=False)
    assert page.status_code == 403 and "has ended" in page.text
    cleared = page.headers.get_list("set-cookie")
    assert any(c.startswith("bt_smart=") for c in cleared) and any(
        c.startswith("bt_interview=") for c in cleared
    )


def test_a_new_interview_cannot_be_started_inside_a_launch(world: World) -> None:
    _launch(world, ALICE)
    page = _post(world, "/start", {"text": "numb back"}, follow_redirects=False)
    assert page.status_code == 403 and "open it again from the record" in page.text
    assert len(_interviews(world.store)) == 1


def test_the_page_outside_a_launch_is_unchanged(world: World) -> None:
    world.client.get("/")
    r = _post(world, "/start")
    assert str(r.url).endswith("/interview") and "Save to the record" not in r.text
    assert "Save to the record" not in _to_the_end(world).text


# ---- cookies and framing ----------------------------------------------------------------------


def test_cookies_over_https_can_live_in_the_ehr_frame(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        w = _world(tmp_path, router, "https://triage.example.org", public_url="https://triage.example.org")
        with w.client:
            r = _launch(w, ALICE)
    cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
    for name in ("bt_smart", "bt_interview", "bt_csrf"):
        assert "samesite=none" in cookies[name] and "secure" in cookies[name] and "httponly" in cookies[name]
        assert "partitioned" in cookies[name]


def test_cookies_over_plain_http_are_lax(world: World) -> None:
    r = _launch(world, ALICE)
    cookies = [c.lower() for c in r.headers.get_list("set-cookie") if c.startswith("bt_smart=")]
    assert cookies and "samesite=lax" in cookies[0] and "secure" not in cookies[0]


def test_frame_ancestors_lists_exactly_the_configured_origins(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        framed = _world(
            tmp_path / "a", router, frame_ancestors=("https://ehr.example.org", "bad; script-src *")
        )
        alone = _world(tmp_path / "b", router)
        with framed.client, alone.client:
            policy = framed.client.get("/").headers["content-security-policy"]
            assert (
                "frame-ancestors https://ehr.example.org;" in policy
                and "frame-ancestors 'none'" not in policy
            )
            assert "script-src *" not in policy
            assert "frame-ancestors 'none'" in alone.client.get("/").headers["content-security-policy"]


# ---- write-back ---------------------------------------------------------------------------------


def test_launch_interview_and_write_back_to_the_patients_record(world: World) -> None:
    _launch(world, ALICE)
    result = _to_the_end(world)
    assert "Save to the record" in result.text
    saved = _post(world, "/smart/write-back")
    assert saved.status_code == 200 and _heading(saved.text) == "Saved to the record"
    assert "Alice Example" in saved.text
    (qr,) = world.fhir.of("QuestionnaireResponse")
    assert qr["subject"]["reference"] == f"Patient/{ALICE}" and qr["status"] == "completed"
    assert world.fhir.of("RiskAssessment") and world.fhir.of("Observation") and world.fhir.of("Provenance")
    for resource in world.fhir.created:
        subject = resource.get("subject") or resource.get("patient")
        if subject is not None:
            assert subject["reference"] == f"Patient/{ALICE}"
    ids = {f"{r['resourceType']}/{r['id']}" for r in world.fhir.created}
    references = re.findall(r'"reference": "([^"]+)"', str(world.fhir.created).replace("'", '"'))
    assert references and not [r for r in references if r.startswith("urn:uuid:")]
    assert {r for r in references if not r.startswith("Patient/")} <= ids  # all point at what was written
    assert any(
        f"QuestionnaireResponse/{qr['id']}" == d["reference"]
        for o in world.fhir.of("Observation")
        for d in o.get("derivedFrom", [])
    )


def test_the_same_answers_are_not_written_twice(world: World) -> None:
    _launch(world, ALICE)
    _to_the_end(world)
    _post(world, "/smart/write-back")
    count = len(world.fhir.created)
    again = _post(world, "/smart/write-back")
    assert "already been saved" in again.text and len(world.fhir.created) == count


def test_without_create_scope_for_risk_assessment_it_is_skipped_and_said(world: World) -> None:
    asked = smart.SCOPE.split()
    world.auth.granted_scope = " ".join(s for s in asked if s != "patient/RiskAssessment.c")
    _launch(world, BOB)
    _to_the_end(world)
    page = _post(world, "/smart/write-back")
    assert _heading(page.text) == "Not everything was saved"
    row = re.search(r"<tr><td>The likely causes.*?</tr>", page.text, flags=re.S)
    assert row and "did not allow the page to add this" in row.group(0)
    assert world.fhir.of("RiskAssessment") == [] and world.fhir.of("QuestionnaireResponse")
    impression = world.fhir.of("ClinicalImpression")
    assert impression and "prognosisReference" not in impression[0]


def test_the_token_is_never_in_a_log_or_a_page(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pages = [_launch(world, ALICE)]
    pages.append(_to_the_end(world))
    pages.append(_post(world, "/smart/write-back"))
    pages.append(world.client.get("/result?details=1"))
    (token,) = world.auth.tokens
    assert world.fhir.created and token not in caplog.text
    for page in pages:
        assert token not in page.text and token not in str(page.headers)
    assert token not in str(world.client.cookies)


def test_a_write_back_needs_the_form_token_and_a_session(world: World) -> None:
    world.client.get("/")
    assert world.client.post("/smart/write-back", data={"csrf": "forged" * 8}).status_code == 403
    assert _post(world, "/smart/write-back").status_code == 400  # not opened from a record


def test_a_write_back_for_another_patients_interview_is_refused(world: World) -> None:
    _launch(world, ALICE)
    alice = world.client.cookies["bt_interview"]
    _launch(world, BOB)
    world.client.cookies.set("bt_interview", alice)
    page = _post(world, "/smart/write-back")
    assert page.status_code == 403 and world.fhir.created == []


# ---- writing resources: order, references, scopes ---------------------------------------------


def _resources() -> list[dict[str, Any]]:
    u = "00000000-0000-4000-8000-00000000000"
    return [
        {
            "resourceType": "Provenance",
            "id": u + "1",
            "target": [{"reference": f"urn:uuid:{u}2"}, {"reference": f"urn:uuid:{u}3"}],
            "recorded": "2026-01-01T00:00:00+00:00",
            "agent": [{"who": {"reference": f"urn:uuid:{u}4"}}],
        },
        {
            "resourceType": "RiskAssessment",
            "id": u + "2",
            "status": "final",
            "subject": {"reference": f"Patient/{ALICE}"},
            "basis": [{"reference": f"urn:uuid:{u}3"}],
            "performer": {"reference": f"urn:uuid:{u}4"},
        },
        {
            "resourceType": "Observation",
            "id": u + "3",
            "status": "final",
            "code": {"text": "x"},
            "subject": {"reference": f"Patient/{ALICE}"},
        },
        {"resourceType": "Device", "id": u + "4", "identifier": [{"system": "urn:kb", "value": "abc"}]},
    ]


def _write(scope: str, resources: list[dict[str, Any]], refuse: set[str] | None = None) -> tuple[Any, Any]:
    async def run() -> tuple[list[smart.Outcome], FakeFhirServer]:
        with respx.mock(assert_all_called=False) as router:
            fhir = FakeFhirServer({"tok": ALICE}, refuse=refuse or set())
            fhir.install(router)
            async with httpx.AsyncClient() as client:
                outcomes = await smart.create_resources(
                    client, FHIR, "tok", smart.Grants.parse(scope), resources
                )
        return outcomes, fhir

    import anyio

    return anyio.run(run)


def test_resources_are_written_after_what_they_refer_to_with_server_ids() -> None:
    outcomes, fhir = _write("patient/*.c", _resources())
    assert [o.status for o in outcomes] == ["written"] * 4
    sent = [r["resourceType"] for r in fhir.created]
    assert sorted(sent[:2]) == ["Device", "Observation"] and sent[2:] == ["RiskAssessment", "Provenance"]
    obs, device = sorted(fhir.created[:2], key=lambda r: r["resourceType"] != "Observation")
    risk, prov = fhir.created[2:]
    assert risk["basis"] == [{"reference": f"Observation/{obs['id']}"}]
    assert risk["performer"] == {"reference": f"Device/{device['id']}"}
    assert {t["reference"] for t in prov["target"]} == {
        f"RiskAssessment/{risk['id']}",
        f"Observation/{obs['id']}",
    }
    assert outcomes[1].reference == f"RiskAssessment/{risk['id']}"


def test_what_is_not_granted_is_skipped_and_references_to_it_dropped() -> None:
    scope = "patient/Observation.c patient/RiskAssessment.c patient/Provenance.c"
    outcomes, fhir = _write(scope, _resources())
    by_kind = {o.resource_type: o for o in outcomes}
    assert by_kind["Device"].status == "skipped" and by_kind["Device"].reason == "no_scope"
    assert "performer" not in fhir.of("RiskAssessment")[0]
    # Provenance.agent.who is required: without the Device it cannot be written.
    assert by_kind["Provenance"].status == "skipped" and by_kind["Provenance"].reason == "needs_unwritten"
    assert fhir.of("Provenance") == []


def test_a_refusal_is_reported_with_its_status_and_the_rest_goes_on() -> None:
    outcomes, fhir = _write("patient/*.c", _resources(), refuse={"Observation"})
    by_kind = {o.resource_type: o for o in outcomes}
    assert by_kind["Observation"].status == "failed" and by_kind["Observation"].http_status == 403
    assert by_kind["RiskAssessment"].status == "written" and "basis" not in fhir.of("RiskAssessment")[0]


def test_the_device_is_created_once_across_write_backs() -> None:
    async def run() -> FakeFhirServer:
        with respx.mock(assert_all_called=False) as router:
            fhir = FakeFhirServer({"tok": ALICE})
            fhir.install(router)
            async with httpx.AsyncClient() as client:
                for _ in range(2):
                    await smart.create_resources(
                        client, FHIR, "tok", smart.Grants.parse("patient/*.c"), _resources()
                    )
        return fhir

    import anyio

    fhir = anyio.run(run)
    assert len(fhir.of("Device")) == 1 and len(fhir.of("RiskAssessment")) == 2
    assert {p["agent"][0]["who"]["reference"] for p in fhir.of("Provenance")} == {
        f"Device/{fhir.of('Device')[0]['id']}"
    }
