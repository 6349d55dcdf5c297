"""The FHIR data a hook call needs, as the spec defines prefetch ("Providing FHIR Resources to a
CDS Service"): a key the EHR left out was not satisfied, `null` means there is no data, and an
OperationOutcome means the EHR met an error. Anything not satisfied is fetched from the EHR's
FHIR server with the call's `fhirAuthorization` token, but only when that server is the one
configured for the trusted issuer (a token is never sent anywhere else); what cannot be had
makes the call fail with 412.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from backtriage.settings import TrustedIssuer

__all__ = [
    "FHIR_ID",
    "PREFETCH",
    "Prefetched",
    "PrefetchUnavailable",
    "gather",
    "query_for",
]

_log = logging.getLogger("backtriage.cds_hooks")

#: A FHIR logical id (R4 `id` datatype). Ids are put into query URLs, so nothing else is taken.
FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"
_FHIR_ID = re.compile(FHIR_ID)

#: What each service asks the EHR to send (the same for both hooks); `{{context.patientId}}` is
#: the only token used.
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
    "observations": "Observation?patient={{context.patientId}}&category=survey&_sort=-date&_count=50",
    "note": "DocumentReference?patient={{context.patientId}}&_sort=-date&_count=1",
}
#: The resource type each key holds.
RESOURCE_TYPE = {
    "patient": "Patient",
    "conditions": "Condition",
    "observations": "Observation",
    "note": "DocumentReference",
}
FETCH_TIMEOUT_SECONDS = 5.0
FETCH_MAX_BYTES = 8 * 1024 * 1024


class PrefetchUnavailable(Exception):
    """Some prefetch keys were neither sent nor fetchable; `keys` names them (never data)."""

    def __init__(self, keys: list[str], why: str) -> None:
        super().__init__(f"{', '.join(keys)}: {why}")
        self.keys, self.why = keys, why


@dataclass
class Prefetched:
    """The resources of each prefetch key, as JSON (a read gives at most one)."""

    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Keys fetched from the FHIR server because the EHR did not send them.
    fetched: list[str] = field(default_factory=list)


def query_for(key: str, patient_id: str) -> str:
    """The relative FHIR URL of a prefetch template for this patient."""
    if not _FHIR_ID.match(patient_id):
        raise ValueError("not a FHIR id")
    return PREFETCH[key].replace("{{context.patientId}}", patient_id)


def _satisfied(key: str, value: Any) -> list[dict[str, Any]] | None:
    """The resources in a prefetch value, or None when the value does not satisfy the key (an
    OperationOutcome, or something that is not the resource or Bundle asked for)."""
    if value is None:
        return []  # the EHR has no data for this template
    if not isinstance(value, dict):
        return None
    kind = value.get("resourceType")
    wanted = RESOURCE_TYPE[key]
    if kind == wanted:
        return [value]
    if kind != "Bundle":
        return None  # an OperationOutcome (an error at the EHR), or not what was asked for
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        return None
    found = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource, search = entry.get("resource"), entry.get("search")
        mode = search.get("mode", "match") if isinstance(search, dict) else "match"
        if isinstance(resource, dict) and resource.get("resourceType") == wanted and mode == "match":
            found.append(resource)
    return found


def _same_server(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def gather(
    prefetch: Mapping[str, Any] | None,
    patient_id: str,
    issuer: TrustedIssuer,
    fhir_server: str | None,
    access_token: str | None,
    client: httpx.Client | None = None,
) -> Prefetched:
    """Every prefetch key's resources, from the request or else from the EHR's FHIR server.
    Raises PrefetchUnavailable when a key can be had neither way."""
    given = prefetch or {}
    result = Prefetched()
    missing: list[str] = []
    for key in PREFETCH:
        resources = _satisfied(key, given[key]) if key in given else None
        if resources is None:
            missing.append(key)
        else:
            result.resources[key] = resources
    if not missing:
        return result
    if fhir_server is None or access_token is None:
        raise PrefetchUnavailable(missing, "not sent, and no FHIR server with a token to fetch them")
    if issuer.fhir_server is None or not _same_server(fhir_server, issuer.fhir_server):
        # The token goes only to the server configured for this EHR, whatever the call says.
        _log.warning("cds-hooks: fhirServer is not the one configured for the issuer; nothing fetched")
        raise PrefetchUnavailable(missing, "not sent, and the fhirServer is not the one trusted for this EHR")
    base = issuer.fhir_server.rstrip("/")
    http = client or _shared_client()
    for key in missing:
        result.resources[key] = _fetch(http, base, key, patient_id, access_token)
        result.fetched.append(key)
    return result


def _fetch(http: httpx.Client, base: str, key: str, patient_id: str, token: str) -> list[dict[str, Any]]:
    url = f"{base}/{query_for(key, patient_id)}"
    try:
        response = http.get(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        )
    except httpx.HTTPError as exc:
        _log.warning("cds-hooks: prefetch %s could not be fetched (%s)", key, type(exc).__name__)
        raise PrefetchUnavailable([key], "the FHIR server could not be reached") from None
    if response.status_code == 404 and RESOURCE_TYPE[key] == "Patient":
        return []  # a read of a patient the server does not have: no data
    if response.status_code != 200 or len(response.content) > FETCH_MAX_BYTES:
        _log.warning("cds-hooks: prefetch %s: the FHIR server answered %d", key, response.status_code)
        raise PrefetchUnavailable([key], f"the FHIR server answered {response.status_code}")
    try:
        resources = _satisfied(key, response.json())
    except ValueError:
        resources = None
    if resources is None:
        _log.warning("cds-hooks: prefetch %s: the FHIR server sent no usable %s", key, RESOURCE_TYPE[key])
        raise PrefetchUnavailable([key], "the FHIR server sent an error or an unexpected resource")
    return resources


_client_lock = threading.Lock()
_client: list[httpx.Client] = []


def _shared_client() -> httpx.Client:
    """One client for every fetch; it never follows a redirect, so the token goes only to the
    configured server."""
    with _client_lock:
        if not _client:
            _client.append(httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False))
        return _client[0]
