"""The work a request can cause before it is validated is bounded: bodies over a limit get 413,
too many answers or fields get one short 422 at once, and no error body grows with the input."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from backtriage.interfaces.api import create_app
from backtriage.interfaces.api.schemas import AnswersIn, AssessIn, InterviewStart
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore

MANY = 120_000  # unknown answer keys, about 2 MB of JSON: what the probe sent
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = AuditStore(f"sqlite:///{tmp_path / 'limits.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, require_api_key=False, rate_limit_per_minute=100_000)
    with TestClient(create_app(settings, TriageService(store))) as c:
        yield c


def _unknown_answers(n: int) -> dict[str, dict[str, bool]]:
    return {"answers": {f"u{i:06d}": True for i in range(n)}}


@pytest.mark.parametrize("path", ["/v1/assess", "/v1/interviews"])
def test_a_flood_of_unknown_answer_keys_gets_one_short_error_at_once(client: TestClient, path: str) -> None:
    body = json.dumps(_unknown_answers(MANY))
    assert len(body) < 2 * 1024 * 1024  # under the body limit: the schema has to stop it
    start = time.perf_counter()
    r = client.post(path, content=body, headers=JSON)
    took = time.perf_counter() - start
    assert r.status_code == 422 and r.json()["error"]["field"] == "answers"
    assert len(r.content) < 400 and took < 1.0, (len(r.content), took)


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (AssessIn, _unknown_answers(MANY)),
        (InterviewStart, _unknown_answers(MANY)),
        (AnswersIn, _unknown_answers(MANY)),
        (AssessIn, {f"field{i}": 1 for i in range(MANY)}),
    ],
)
def test_the_schema_refuses_a_flood_with_one_error_not_one_per_key(model: type, payload: object) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(payload)  # type: ignore[attr-defined]
    assert refused.value.error_count() == 1


def test_every_finding_can_still_be_answered_in_one_call(client: TestClient) -> None:
    findings = client.get("/v1/knowledge/findings").json()["findings"]
    asked = {f["id"]: False for f in findings if "derived_from" not in f}
    r = client.post("/v1/assess", json={"answers": asked})
    assert r.status_code == 200, r.text


def test_no_error_body_grows_with_the_input(client: TestClient) -> None:
    long_key = "k" * 100_000
    for payload in ({"answers": {long_key: True}}, {long_key: 1}):
        r = client.post("/v1/assess", json=payload)
        assert r.status_code == 422 and len(r.content) < 400, len(r.content)
        assert long_key[:100] not in r.text


def test_a_body_of_answers_only_is_limited_to_256_kib(client: TestClient) -> None:
    interview = client.post("/v1/interviews", json={}).json()["id"]
    padded = json.dumps({"answers": {"fever": True}, "pad": " " * 300_000})
    r = client.post(f"/v1/interviews/{interview}/answers", content=padded, headers=JSON)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert "262144" in r.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/assess", "/v1/parse", "/v1/interviews"])
def test_a_100000_character_text_escaped_in_json_still_fits(client: TestClient, path: str) -> None:
    # Each emoji is one character but twelve bytes as JSON escapes ("\ud83d\ude2d"): about 1.2 MB.
    # The bad age makes the call stop at validation, after the body limit, without reading.
    body = json.dumps({"text": "\U0001f62d" * 100_000, "age": -1})
    assert len(body) > 1_000_000
    r = client.post(path, content=body, headers=JSON)
    assert r.status_code == 422 and r.json()["error"]["field"] == "age", r.text[:200]
