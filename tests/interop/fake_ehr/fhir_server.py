"""A fake FHIR server for write-back tests, mocked with respx (no network): it reads patients,
accepts creates (POST [base]/[type]) from a valid bearer token only, records them, and answers
201 with a Location, as a real server does. `If-None-Exist` is honoured for identifiers."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx

from tests.interop.fake_ehr.smart_server import FHIR


@dataclass
class FakeFhirServer:
    #: The tokens it accepts, and the patient each was granted for (shared with the token endpoint).
    tokens: dict[str, str]
    base: str = FHIR
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    #: Types it answers 403 for, as an EHR that refuses a kind of resource would.
    refuse: set[str] = field(default_factory=set)
    unauthorised: int = 0

    def install(self, router: respx.Router) -> None:
        base = re.escape(self.base)
        router.get(url__regex=rf"^{base}/Patient/(?P<pid>[^/?]+)$").mock(side_effect=self._guard(self.read))
        router.post(url__regex=rf"^{base}/(?P<kind>[A-Z][A-Za-z]+)$").mock(
            side_effect=self._guard(self.create)
        )

    def add_patient(self, pid: str, name: str, born: str, gender: str) -> None:
        given, family = name.split(" ", 1)
        self.patients[pid] = {
            "resourceType": "Patient",
            "id": pid,
            "name": [{"given": [given], "family": family}],
            "birthDate": born,
            "gender": gender,
        }

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.created if r["resourceType"] == kind]

    def _guard(self, handler: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
        def guarded(request: httpx.Request, **kwargs: str) -> httpx.Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme != "Bearer" or token not in self.tokens:
                self.unauthorised += 1
                return httpx.Response(401)
            return handler(request, patient=self.tokens[token], **kwargs)

        return guarded

    def read(self, request: httpx.Request, patient: str, pid: str) -> httpx.Response:
        if pid != patient or pid not in self.patients:
            return httpx.Response(404)
        return httpx.Response(200, json=self.patients[pid])

    def create(self, request: httpx.Request, patient: str, kind: str) -> httpx.Response:
        body = json.loads(request.content)
        if kind in self.refuse:
            return httpx.Response(403)
        if body.get("resourceType") != kind or "fhir+json" not in request.headers.get("content-type", ""):
            return httpx.Response(400)
        subject = body.get("subject", {}).get("reference")
        if subject is not None and subject != f"Patient/{patient}":
            return httpx.Response(403)  # the token is for another patient
        search = request.headers.get("if-none-exist")
        if search:
            wanted = parse_qs(search)["identifier"][0]
            for r in self.of(kind):
                if any(f"{i['system']}|{i['value']}" == wanted for i in r.get("identifier", [])):
                    return httpx.Response(200, headers={"Location": f"{self.base}/{kind}/{r['id']}"})
        body["id"] = str(uuid.uuid4())
        self.created.append(body)
        location = f"{self.base}/{kind}/{body['id']}/_history/1"
        return httpx.Response(201, headers={"Location": location})
