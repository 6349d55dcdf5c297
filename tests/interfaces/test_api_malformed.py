"""Malformed input never reaches the database as a failure: no 5xx from any of these requests, on
SQLite and on PostgreSQL (when BACKTRIAGE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backtriage.interfaces.api import create_app
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore
from tests.conftest import DATABASES, fresh_database

NUL, RTL = "\x00", "\u202e"
BODIES: list[object] = [
    None,
    [],
    "text",
    42,
    {"text": NUL},
    {"text": f"numb{NUL}back"},
    {"text": RTL + "numb back" * 100},
    {"text": "\ud83d\ude2d" * 5000},
    {"text": "!" * 20_000},
    {"text": ""},
    {"text": " \n\t "},
    {"text": None, "answers": None},
    {"answers": {"saddle_anaesthesia": "yes"}},
    {"answers": {"saddle_anaesthesia": 1}},
    {"answers": {"not_a_finding": True}},
    {"answers": [["saddle_anaesthesia", True]]},
    {"age": -1},
    {"age": 1e308},
    {"age": "40"},
    {"age": True},
    {"sex": "unknown"},
    {"top": -5},
    {"top": 10**20},
    {"unexpected": {"deep": [1, 2, 3]}},
]
RAW = [b"", b"{", b'{"text": "numb', b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'{"text": "\\ud800"}']
PATHS = ["/v1/assess", "/v1/parse", "/v1/interviews"]
IDS = ["%00", "abc%00def", "x" * 60_000, "../../etc/passwd", "00000000-0000-0000-0000-000000000000"]


@pytest.fixture(params=DATABASES)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with fresh_database(request.param, tmp_path) as url:
        store = AuditStore(url)
        store.upgrade()
        settings = Settings(database_url=url, require_api_key=False, rate_limit_per_minute=100_000)
        with TestClient(create_app(settings, TriageService(store)), raise_server_exceptions=False) as c:
            yield c
        store.engine.dispose()


def test_no_malformed_request_gets_a_server_error(client: TestClient) -> None:
    statuses: dict[str, int] = {}
    for path in PATHS:
        for n, body in enumerate(BODIES):
            r = client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
            statuses[f"{path} body {n}"] = r.status_code
        for n, raw in enumerate(RAW):
            r = client.post(path, content=raw, headers={"Content-Type": "application/json"})
            statuses[f"{path} raw {n}"] = r.status_code
    view = client.post("/v1/interviews", json={}).json()
    for n, interview_id in enumerate(IDS):
        for method, suffix, body in (("GET", "", None), ("POST", "/answers", {"answers": {}})):
            r = client.request(method, f"/v1/interviews/{interview_id}{suffix}", json=body)
            statuses[f"{method} id {n}"] = r.status_code
    for n, body in enumerate(BODIES):
        r = client.post(f"/v1/interviews/{view['id']}/answers", content=json.dumps(body))
        statuses[f"answers body {n}"] = r.status_code
    assert {name: code for name, code in statuses.items() if code >= 500} == {}
    assert len(statuses) > 100
