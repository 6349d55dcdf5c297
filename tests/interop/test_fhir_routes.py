"""The /fhir endpoints over HTTP: FHIR JSON without an API key, OperationOutcome for an unknown
id, and nothing of it in the OpenAPI document (FHIR clients read /fhir/metadata)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fhir.resources.R4B as r4b
import pytest
from fastapi.testclient import TestClient

from backtriage.interfaces.api import create_app
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A server that asks for an API key on its own API: the FHIR terminology needs none."""
    store = AuditStore(f"sqlite:///{tmp_path_factory.mktemp('fhir') / 'fhir.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, require_api_key=True)
    with TestClient(create_app(settings, TriageService(store))) as c:
        yield c


def test_metadata_is_an_r4_capability_statement_without_a_key(client: TestClient) -> None:
    assert client.get("/v1/knowledge/findings").status_code == 401  # the API itself needs a key
    r = client.get("/fhir/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    data = r.json()
    assert data["resourceType"] == "CapabilityStatement" and data["fhirVersion"] == "4.0.1"
    assert data["implementation"]["url"] == "http://testserver/fhir"
    r4b.get_fhir_model_class("CapabilityStatement").model_validate(data)


def test_the_public_url_is_the_implementation_url(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, public_url="https://triage.example.org")
    with TestClient(create_app(settings, TriageService(store))) as c:
        data = c.get("/fhir/metadata", headers={"host": "evil.example"}).json()
    assert data["implementation"]["url"] == "https://triage.example.org/fhir"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/fhir/CodeSystem/urgency", "CodeSystem"),
        ("/fhir/CodeSystem/finding", "CodeSystem"),
        ("/fhir/CodeSystem/red-flag", "CodeSystem"),
        ("/fhir/ValueSet/urgency", "ValueSet"),
        ("/fhir/ConceptMap/urgency-to-act-priority", "ConceptMap"),
    ],
)
def test_terminology_is_served_as_fhir_json(client: TestClient, path: str, kind: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    data = r.json()
    assert data["resourceType"] == kind and data["url"].endswith(path.removeprefix("/fhir"))
    assert "null" not in r.text  # exclude_none: no empty elements
    r4b.get_fhir_model_class(kind).model_validate(data)


@pytest.mark.parametrize(
    "path", ["/fhir/CodeSystem/nope", "/fhir/ValueSet/finding", "/fhir/ConceptMap/" + "x" * 5000]
)
def test_an_unknown_id_is_a_404_operation_outcome_that_does_not_echo_it(
    client: TestClient, path: str
) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/fhir+json")
    data = r.json()
    assert data["resourceType"] == "OperationOutcome"
    assert data["issue"][0]["code"] == "not-found" and data["issue"][0]["severity"] == "error"
    assert path.rsplit("/", 1)[-1] not in r.text and len(r.content) < 300
    r4b.get_fhir_model_class("OperationOutcome").model_validate(data)


def test_fhir_routes_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths and not [p for p in paths if p.startswith("/fhir")]


def test_the_rate_limit_answers_with_an_operation_outcome(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, rate_limit_per_minute=2)
    with TestClient(create_app(settings, TriageService(store))) as c:
        answers = [c.get("/fhir/CodeSystem/urgency") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.json()["issue"][0]["code"] == "throttled" and int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("application/fhir+json")
