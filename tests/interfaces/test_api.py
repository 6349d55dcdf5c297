"""The HTTP API, black-box: status codes and JSON bodies."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backtriage.interfaces.api import create_app
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    s = AuditStore(f"sqlite:///{tmp_path / 'api.db'}")
    s.upgrade()
    return s


def client_for(store: AuditStore, **settings: object) -> TestClient:
    config = Settings(database_url=store.url, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(config, TriageService(store)))


@pytest.fixture
def open_client(store: AuditStore) -> Iterator[TestClient]:
    with client_for(store, require_api_key=False) as c:
        yield c


def test_health_and_knowledge(open_client: TestClient) -> None:
    assert open_client.get("/healthz").json()["status"] == "ok"
    findings = open_client.get("/v1/knowledge/findings").json()["findings"]
    assert any(f["id"] == "saddle_anaesthesia" for f in findings)
    conditions = open_client.get("/v1/knowledge/conditions").json()["conditions"]
    assert any(c["id"] == "cauda_equina_syndrome" for c in conditions)


def test_assess_with_answers_and_with_text(open_client: TestClient) -> None:
    r = open_client.post(
        "/v1/assess", json={"answers": {"saddle_anaesthesia": True, "bladder_dysfunction": True}}
    )
    assert r.status_code == 200 and r.json()["urgency"] == "emergency"
    assert r.json()["conditions"][0]["id"] == "cauda_equina_syndrome"
    r = open_client.post(
        "/v1/assess",
        json={
            "text": "Tingling in my low back after sitting, gone "
            "in minutes when I walk. No numbness down below, bladder and bowels "
            "normal.",
            "top": 3,
        },
    )
    body = r.json()
    # The text shows no harmless pattern in full (persistence, spread and walking unasked).
    assert body["urgency"] == "routine" and len(body["conditions"]) == 3
    assert any(r["kind"] == "no_benign_pattern" for r in body["urgency_reasons"])
    assert body["text"]["mentions"] and body["scope"] == "back" and body["emergency_number"]


def test_the_result_is_structured_and_in_words_only_when_asked(open_client: TestClient) -> None:
    body = {"answers": {"saddle_anaesthesia": True, "bladder_dysfunction": True}}
    plain = open_client.post("/v1/assess", json=body).json()
    assert "explanation" not in plain and "999" in plain["disclaimer"]
    rule = next(r for r in plain["urgency_reasons"] if r["ref"] == "ces_saddle_with_sphincter")
    assert rule["kind"] == "rule" and set(rule["findings"]) == {"saddle_anaesthesia", "bladder_dysfunction"}
    assert "summary" not in rule  # reasons carry ids and numbers, not sentences
    worded = open_client.post("/v1/assess", json={**body, "explain": True}).json()
    explanation = worded["explanation"]
    assert explanation["headline"] == "Emergency: call 999 now"
    assert "numb between the legs or around the bottom" in explanation["why"][0]
    assert any("Saddle numbness with new bladder or bowel trouble" in r for r in explanation["why_clinical"])
    assert worded["urgency"] == plain["urgency"] == "emergency"


def test_parse(open_client: TestClient) -> None:
    body = open_client.post("/v1/parse", json={"text": "Pt denies saddle anaesthesia. 45M"}).json()
    assert body["answers"] == {"saddle_anaesthesia": False} and body["age"] == 45


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"age": 500}, "age"),
        ({"answers": {"fever": "yes"}}, "answers.fever"),
        ({"sex": "x"}, "sex"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_validation_errors_name_the_field(open_client: TestClient, payload: dict, field: str) -> None:  # type: ignore[type-arg]
    r = open_client.post("/v1/assess", json=payload)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field


def test_unknown_finding_and_bad_json(open_client: TestClient) -> None:
    r = open_client.post("/v1/assess", json={"answers": {"saddle_anesthesia": True}})
    assert r.status_code == 422 and r.json()["error"]["field"].startswith("answers.saddle_anesthesia")
    r = open_client.post("/v1/assess", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


def test_an_interview_in_words_when_asked_and_structured_otherwise(open_client: TestClient) -> None:
    plain = open_client.post("/v1/interviews", json={"text": "my back tingles"}).json()
    assert "999" in plain["disclaimer"] and plain["why_asked"] is None and plain["explanation"] is None
    r = open_client.post("/v1/interviews?explain=true", json={"text": "my back tingles"})
    view = r.json()
    assert r.status_code == 201 and "emergency" in view["why_asked"]  # the red-flag checklist first
    q = view["question"]
    flags = {o["finding"]: True for o in q["options"] if o["finding"]}
    first = next(iter(flags))
    r = open_client.post(f"/v1/interviews/{view['id']}/answers?explain=true", json={"answers": {first: True}})
    done = r.json()
    assert done["done"] and done["assessment"]["urgency"] == "emergency"
    assert done["stopped"] and done["explanation"]["headline"].startswith("Emergency")
    again = open_client.get(f"/v1/interviews/{view['id']}", params={"explain": "true"}).json()
    assert again["explanation"] == done["explanation"]
    bad = open_client.get(f"/v1/interviews/{view['id']}", params={"explain": "perhaps"})
    assert bad.status_code == 422 and bad.json()["error"]["field"].endswith("explain")


def test_full_interview_over_http_is_stored(open_client: TestClient, store: AuditStore) -> None:
    r = open_client.post("/v1/interviews", json={"text": "my lower back tingles after sitting", "age": 35})
    assert r.status_code == 201
    view = r.json()
    assert view["question"]["id"] == "emergency_screen" and not view["done"]
    asked = []
    steps = 0
    while not view["done"]:
        q = view["question"]
        asked.append(q["id"])
        if q["kind"] == "yes_no":
            answers = {q["finding"]: False}
        elif q["none_of_these"]:
            answers = {o["finding"]: False for o in q["options"] if o["finding"]}
        else:
            answers = {}
        r = open_client.post(f"/v1/interviews/{view['id']}/answers", json={"answers": answers})
        assert r.status_code == 200, r.json()
        view = r.json()
        steps += 1
        assert steps < 25
    # "No" to everything, including "goes within minutes once I move" (left unchosen in the
    # "which of these describe it?" question, so the server records it as "no"): no harmless
    # pattern, so no self-care.
    assert "pattern" in asked
    assert view["answers"]["resolves_with_movement"] is False
    assert view["assessment"]["urgency"] == "routine"
    again = open_client.get(f"/v1/interviews/{view['id']}").json()
    assert again["done"] and again["assessment"]["urgency"] == "routine"
    r = open_client.post(f"/v1/interviews/{view['id']}/answers", json={"answers": {}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    out = io.StringIO()
    store.export(out)
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert exported[0]["id"] == view["id"] and len(exported[0]["events"]) == steps + 1


def test_not_found_and_oversized(open_client: TestClient) -> None:
    r = open_client.get("/v1/interviews/does-not-exist")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    big = json.dumps({"text": "x" * 3_000_000})
    r = open_client.post("/v1/assess", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_api_key_required_unless_open_mode(store: AuditStore) -> None:
    key_id, secret = store.create_api_key("test")
    with client_for(store) as c:
        r = c.post("/v1/assess", json={"answers": {"fever": True}})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = c.post("/v1/assess", json={"answers": {"fever": True}}, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        ok = c.post(
            "/v1/assess", json={"answers": {"fever": True}}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert ok.status_code == 200
        store.revoke_api_key(key_id)
        r = c.post(
            "/v1/assess", json={"answers": {"fever": True}}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert r.status_code == 401


def test_rate_limit_per_key(store: AuditStore) -> None:
    _, secret = store.create_api_key("busy")
    with client_for(store, rate_limit_per_minute=3) as c:
        headers = {"Authorization": f"Bearer {secret}"}
        codes = [c.get("/v1/knowledge/findings", headers=headers).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_cors_is_configurable(store: AuditStore) -> None:
    with client_for(store, require_api_key=False, cors_origins=("https://clinic.example",)) as c:
        r = c.options(
            "/v1/assess",
            headers={"Origin": "https://clinic.example", "Access-Control-Request-Method": "POST"},
        )
        assert r.headers.get("access-control-allow-origin") == "https://clinic.example"
    with client_for(store, require_api_key=False) as c:
        r = c.get("/healthz", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in r.headers


def test_openapi_document_has_paths_and_examples(open_client: TestClient) -> None:
    doc = open_client.get("/openapi.json").json()
    for path in (
        "/v1/assess",
        "/v1/parse",
        "/v1/interviews",
        "/v1/interviews/{interview_id}",
        "/v1/interviews/{interview_id}/answers",
        "/v1/knowledge/findings",
        "/healthz",
    ):
        assert path in doc["paths"]
    assert "examples" in json.dumps(doc["components"]["schemas"]["AssessIn"])


DOCUMENTED = {
    ("get", "/healthz"): {"200"},
    ("post", "/v1/assess"): {"200", "400", "401", "413", "422", "429", "500", "503"},
    ("post", "/v1/parse"): {"200", "400", "401", "413", "422", "429", "500", "503"},
    ("post", "/v1/interviews"): {"201", "400", "401", "413", "422", "429", "500", "503"},
    ("post", "/v1/interviews/{interview_id}/answers"): {
        "200",
        "400",
        "401",
        "404",
        "409",
        "413",
        "422",
        "429",
        "500",
        "503",
    },
    ("get", "/v1/interviews/{interview_id}"): {"200", "401", "404", "422", "429", "500", "503"},
    ("get", "/v1/knowledge/findings"): {"200", "401", "429", "500"},
    ("get", "/v1/knowledge/conditions"): {"200", "401", "429", "500"},
    ("get", "/cds-services"): {"200", "429", "500"},
    ("post", "/cds-services/{service_id}"): {
        "200",
        "400",
        "401",
        "404",
        "412",
        "413",
        "422",
        "429",
        "500",
        "503",
    },
    ("post", "/cds-services/{service_id}/feedback"): {
        "200",
        "400",
        "401",
        "404",
        "413",
        "422",
        "429",
        "500",
        "503",
    },
}


def test_every_documented_response_has_an_example_of_its_own_shape(open_client: TestClient) -> None:
    from backtriage.domain.assessment import Assessment
    from backtriage.interfaces.api.schemas import ErrorOut
    from backtriage.service import InterviewView

    doc = open_client.get("/openapi.json").json()
    operations = {(m, p): op for p, ops in doc["paths"].items() for m, op in ops.items()}
    assert {key: set(op["responses"]) for key, op in operations.items()} == DOCUMENTED
    models = {"/v1/assess": Assessment, "/v1/interviews": InterviewView}
    for (method, path), op in operations.items():
        for status, response in op["responses"].items():
            example = response["content"]["application/json"]["example"]
            if status >= "400":
                ErrorOut.model_validate(example)
                assert example["error"]["code"] and response["description"]
            elif path.startswith("/v1/interviews"):
                InterviewView.model_validate(example)
            elif path in models:
                models[path].model_validate(example)
            else:
                assert example, (method, path)


def test_chunked_bodies_are_limited_too(store: AuditStore) -> None:
    with client_for(store, require_api_key=False, max_body_bytes=2048) as c:
        small = (part for part in [b'{"answers": ', b'{"fever": true}}'])
        r = c.post("/v1/assess", content=small, headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["urgency"] == "urgent"
        big = (b"x" * 1024 for _ in range(4))
        r = c.post("/v1/assess", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413


CANARY = "CANARY-7f3a numb between my legs"


def test_nul_is_refused_at_the_edge_and_ids_are_never_echoed_in_full(open_client: TestClient) -> None:
    r = open_client.post("/v1/interviews", json={"text": "numb\u0000back"})
    assert r.status_code == 422 and "NUL" in r.json()["error"]["message"]
    r = open_client.post("/v1/assess", json={"text": "numb\u0000back"})
    assert r.status_code == 422
    r = open_client.get("/v1/interviews/abc%00def")
    assert r.status_code == 404 and "\x00" not in r.text
    long_id = "x" * 60_000  # as long as an HTTP client will send
    r = open_client.get(f"/v1/interviews/{long_id}")
    assert r.status_code == 404 and len(r.content) < 500


def test_an_interview_belongs_to_the_key_that_made_it(store: AuditStore) -> None:
    _, secret_a = store.create_api_key("a")
    _, secret_b = store.create_api_key("b")
    a, b = ({"Authorization": f"Bearer {s}"} for s in (secret_a, secret_b))
    with client_for(store) as c:
        made = c.post("/v1/interviews", json={"age": 40}, headers=a).json()
        assert c.get(f"/v1/interviews/{made['id']}", headers=a).status_code == 200
        for call in (
            lambda: c.get(f"/v1/interviews/{made['id']}", headers=b),
            lambda: c.post(
                f"/v1/interviews/{made['id']}/answers", json={"answers": {"fever": False}}, headers=b
            ),
        ):
            r = call()
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_every_response_forbids_caching_and_sniffing(open_client: TestClient) -> None:
    for r in (open_client.get("/healthz"), open_client.post("/v1/assess", json={"answers": {}})):
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"


def _slow_service(store: AuditStore) -> TriageService:
    service = TriageService(store)

    def slow(*_: object, **__: object) -> None:
        import time

        time.sleep(1.0)

    service.assess = slow  # type: ignore[method-assign]
    return service


def test_reading_runs_off_the_event_loop_within_a_time_budget(store: AuditStore) -> None:
    """A short text that runs out of time was held up by load: "busy, try again", never "send a
    shorter text" (a three-word text cannot be shortened into time)."""
    config = Settings(database_url=store.url, require_api_key=False, read_timeout_seconds=0.05)
    with TestClient(create_app(config, _slow_service(store))) as c:
        r = c.post("/v1/assess", json={"text": "numb back"})
    error = r.json()["error"]
    assert r.status_code == 503 and error["code"] == "busy", r.text
    assert "busy" in error["message"] and "shorter" not in error["message"]
    assert r.headers["retry-after"] == "2"


def test_a_long_text_that_takes_the_time_itself_is_asked_to_be_shorter(store: AuditStore) -> None:
    config = Settings(database_url=store.url, require_api_key=False, read_timeout_seconds=0.2)
    long_text = "numb back. " * 3_000  # 33,000 characters: past LONG_BODY_BYTES
    with TestClient(create_app(config, _slow_service(store))) as c:
        r = c.post("/v1/assess", json={"text": long_text})
    error = r.json()["error"]
    assert r.status_code == 503 and error["code"] == "too_slow", r.text
    assert "shorter text" in error["message"] and "busy" not in error["message"]
    assert "retry-after" not in r.headers  # sending the same text again would not help


def test_a_long_text_that_never_got_its_turn_is_told_the_server_is_busy(store: AuditStore) -> None:
    """Waiting for a work slot is load, whatever the text's length."""
    import threading

    service = TriageService(store)
    holding, release = threading.Event(), threading.Event()

    def hold(*_: object, **__: object) -> None:
        holding.set()
        release.wait(30)

    service.assess = hold  # type: ignore[method-assign]
    config = Settings(database_url=store.url, require_api_key=False, read_timeout_seconds=0.3, work_threads=1)
    with TestClient(create_app(config, service)) as c:
        try:
            first = c.post("/v1/assess", json={"answers": {}})  # times out, keeps its slot
            assert holding.is_set() and first.status_code == 503
            r = c.post("/v1/assess", json={"text": "numb back. " * 3_000})
        finally:
            release.set()
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy", r.text
    assert "shorter" not in r.json()["error"]["message"]


def test_a_database_failure_is_a_json_500_with_no_patient_text_anywhere(
    store: AuditStore, caplog: pytest.LogCaptureFixture
) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE assessments")
    with client_for(store, require_api_key=False) as c, caplog.at_level("DEBUG"):
        c_raise = TestClient(c.app, raise_server_exceptions=False)
        r = c_raise.post("/v1/assess", json={"text": CANARY})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert CANARY not in r.text
    assert CANARY not in caplog.text


def test_docs_render_with_no_network_and_ask_for_a_key(store: AuditStore) -> None:
    with client_for(store) as c:
        page = c.get("/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower() and "/static-offline-docs/swagger-ui-bundle.js" in page.text
        assert c.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
        assert c.get("/redoc").status_code == 200
        doc = c.get("/openapi.json").json()
        assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
        assert doc["paths"]["/v1/assess"]["post"]["security"] == [{"HTTPBearer": []}]


def test_failed_authentication_is_rate_limited(store: AuditStore) -> None:
    with client_for(store, rate_limit_per_minute=5) as c:
        codes = [
            c.post("/v1/assess", json={}, headers={"Authorization": f"Bearer guess-{i}"}).status_code
            for i in range(8)
        ]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}


def test_no_redirect_copies_the_host_header(open_client: TestClient) -> None:
    r = open_client.post("/v1/assess/", json={}, headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 404 and "location" not in r.headers
