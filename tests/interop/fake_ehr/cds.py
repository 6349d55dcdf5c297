"""The fake EHR's side of CDS Hooks: its settings in backtriage, its spec-shaped hook calls (the
example bodies in tests/interop/data/cds), signed headers, and a small FHIR server on respx
that answers the prefetch queries and records what it was sent."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import respx
from fastapi.testclient import TestClient

from backtriage.interfaces.api import create_app
from backtriage.service import TriageService
from backtriage.settings import Settings, TrustedIssuer
from backtriage.storage import AuditStore
from tests.interop.fake_ehr import keys

DATA = Path(__file__).resolve().parents[1] / "data" / "cds"
PUBLIC_URL = "https://cds.backtriage.example.net"
FHIR_BASE = "https://ehr.example.org/fhir"
PATIENT_VIEW = "back-numbness-patient-view"
ENCOUNTER_START = "back-numbness-encounter-start"
TRUSTED = TrustedIssuer(iss=keys.ISSUER, jku=keys.JKU, fhir_server=FHIR_BASE)


def settings_for(store: AuditStore, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": store.url,
        "cds_issuers": (TRUSTED,),
        "public_url": PUBLIC_URL,
        "rate_limit_per_minute": 100_000,
        "read_timeout_seconds": 120,
        **changes,
    }
    return Settings(**values)


def client_for(store: AuditStore, **changes: Any) -> TestClient:
    return TestClient(create_app(settings_for(store, **changes), TriageService(store)))


def url(service_id: str = PATIENT_VIEW, base: str = PUBLIC_URL, feedback: bool = False) -> str:
    return f"{base}/cds-services/{service_id}" + ("/feedback" if feedback else "")


def auth(aud: str | None = None, **changes: Any) -> dict[str, str]:
    """A correctly signed `Authorization` header for a call to `aud` (the patient-view URL)."""
    token = keys.sign(keys.claims(aud or url(), **changes))
    return {"Authorization": f"Bearer {token}"}


def example(name: str, age: int | None = None) -> dict[str, Any]:
    """A spec-shaped hook call from tests/interop/data/cds; `age` rewrites the patient's birth
    date so the patient has that age today (cards must not change as the years pass)."""
    body: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    if age is not None:
        today = date.today()
        body["prefetch"]["patient"]["birthDate"] = date(today.year - age, 1, 1).isoformat()
    return body


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def finding_observation(
    patient_id: str,
    finding: str,
    present: bool = True,
    when: str = "2026-12-05T09:00:00Z",
    hpo: str | None = None,
) -> dict[str, Any]:
    """An Observation of one finding as backtriage writes them (HPO, or its own code system)."""
    coding = (
        {"system": "http://human-phenotype-ontology.org", "code": hpo}
        if hpo
        else {"system": "https://fhir.backtriage.org/CodeSystem/finding", "code": finding}
    )
    value = (
        {"code": "LA9633-4", "display": "Present"} if present else {"code": "LA9634-2", "display": "Absent"}
    )
    return {
        "resourceType": "Observation",
        "id": f"obs-{finding.replace('_', '-')}-{int(present)}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
                ]
            }
        ],
        "code": {"coding": [coding]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", **value}]},
    }


def hook_call(
    patient_id: str = "pat-1",
    prefetch: dict[str, Any] | None = None,
    hook: str = "patient-view",
    **fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        "context": {"userId": "Practitioner/dr-1", "patientId": patient_id, "encounterId": "enc-9"},
        "prefetch": prefetch
        if prefetch is not None
        else {
            "patient": {
                "resourceType": "Patient",
                "id": patient_id,
                "gender": "male",
                "birthDate": "1970-01-01",
            },
            "conditions": None,
            "observations": None,
            "note": None,
        },
    }
    body.update(fields)
    return body


@dataclass
class FakeFhirServer:
    """The EHR's FHIR server for the prefetch fallback: one patient's resources, by type."""

    patient: dict[str, Any]
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def mount(self, router: respx.Router, base: str = FHIR_BASE) -> None:
        router.get(f"{base}/Patient/{self.patient['id']}").mock(side_effect=self._read)
        for kind in ("Condition", "Observation", "DocumentReference"):
            router.get(f"{base}/{kind}").mock(side_effect=self._search)

    def _read(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=copy.deepcopy(self.patient))

    def _search(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        kind = request.url.path.rsplit("/", 1)[-1]
        if request.url.params.get("patient") != self.patient["id"]:
            return httpx.Response(200, json=bundle())
        return httpx.Response(200, json=copy.deepcopy(self.searches.get(kind, bundle())))
