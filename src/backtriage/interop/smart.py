"""SMART App Launch 2.x (EHR launch) as a client, with no web framework in it: discovery, PKCE,
the authorize URL, the code exchange, granted scopes, and writing results back to the record.

The page (`interfaces.web.smart`) keeps the state between the steps; this module only speaks to
the EHR. Nothing here logs a token, a code, a verifier or anything about the patient: a refusal
is logged by its reason, and a `SmartError` message is safe to log for the same reason.

Decisions (see docs/integrating.md):
- PKCE is always S256, never `plain`. A smart-configuration that lists
  `code_challenge_methods_supported` without S256 is refused. One that omits the field (some
  EHRs do) is accepted and S256 is sent anyway: a server without PKCE ignores the extra
  parameters, and a server with PKCE must support S256 (RFC 7636 §4.2).
- `id_token` is not verified and so not used: the page needs no identity of the user.
- Write-back is one POST (create) per resource, each after those it refers to, and only if the
  granted scopes allow creating its type. References to resources written earlier are rewritten
  to the ids the server gave them; a resource still needing one not written is skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio
import httpx

from backtriage.errors import BacktriageError

if TYPE_CHECKING:
    from backtriage.knowledge.loader import KnowledgeBase
    from backtriage.service import InterviewView

__all__ = [
    "SCOPE",
    "Grants",
    "Outcome",
    "PatientSummary",
    "Pkce",
    "SmartConfiguration",
    "SmartError",
    "TokenResponse",
    "authorize_url",
    "challenge_for",
    "create_resources",
    "discover",
    "exchange_code",
    "new_state",
    "parse_token_response",
    "read_patient",
    "write_back",
]

_log = logging.getLogger("backtriage.smart")

#: What the page asks for: the launch context, reading the patient (age, sex and name, to
#: start the interview and say whose record is written to), and creating what it writes back.
#: No `openid fhirUser`: an id_token the page does not verify would only be a liability.
SCOPE = " ".join(
    [
        "launch",
        "patient/Patient.rs",
        "patient/QuestionnaireResponse.c",
        "patient/RiskAssessment.c",
        "patient/Observation.c",
        "patient/ClinicalImpression.c",
        "patient/Provenance.c",
        "patient/Device.c",
    ]
)
#: Seconds to wait for the EHR on any one call.
TIMEOUT = 10.0
#: Creates sent to the EHR at once during a write-back (about 70 resources for one interview).
PARALLEL_WRITES = 4
#: A token response without `expires_in` is taken to last this long (seconds), and no session
#: outlives the cap, whatever the EHR says.
DEFAULT_EXPIRES_IN = 3600
MAX_EXPIRES_IN = 12 * 3600
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FHIR_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_LOCATION = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]*)?/?$")
_FHIR_JSON = "application/fhir+json"


class SmartError(BacktriageError):
    """A launch or write-back that cannot go on. The message names the reason only: never a
    token, a code or anything about the patient, so it may be logged."""


# ---- discovery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmartConfiguration:
    """The parts of `{iss}/.well-known/smart-configuration` the launch needs."""

    authorization_endpoint: str
    token_endpoint: str
    #: False when the EHR did not list `code_challenge_methods_supported` (S256 is sent anyway).
    pkce_advertised: bool
    capabilities: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "pkce_advertised": self.pkce_advertised,
            "capabilities": list(self.capabilities),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SmartConfiguration:
        return cls(
            authorization_endpoint=str(data["authorization_endpoint"]),
            token_endpoint=str(data["token_endpoint"]),
            pkce_advertised=bool(data["pkce_advertised"]),
            capabilities=tuple(str(c) for c in data.get("capabilities", ())),
        )


def _endpoint(iss: str, value: Any, name: str) -> str:
    """An endpoint from the configuration: an absolute URL, https whenever `iss` is https (a
    code or a token is never sent in clear by an EHR that is itself served securely)."""
    if not isinstance(value, str) or not value:
        raise SmartError(f"smart-configuration has no {name}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SmartError(f"smart-configuration {name} is not an absolute http(s) URL")
    if urlsplit(iss).scheme == "https" and parts.scheme != "https":
        raise SmartError(f"smart-configuration {name} is not https although the FHIR server is")
    return value


async def discover(iss: str, client: httpx.AsyncClient) -> SmartConfiguration:
    """Read and check the EHR's SMART configuration (SMART App Launch 2.x §Discovery)."""
    url = iss.rstrip("/") + "/.well-known/smart-configuration"
    try:
        reply = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise SmartError(f"smart-configuration could not be fetched ({type(exc).__name__})") from None
    if reply.status_code != 200:
        raise SmartError(f"smart-configuration answered HTTP {reply.status_code}")
    try:
        doc = reply.json()
    except ValueError:
        raise SmartError("smart-configuration is not JSON") from None
    if not isinstance(doc, dict):
        raise SmartError("smart-configuration is not a JSON object")
    authorize = _endpoint(iss, doc.get("authorization_endpoint"), "authorization_endpoint")
    token = _endpoint(iss, doc.get("token_endpoint"), "token_endpoint")
    methods = doc.get("code_challenge_methods_supported")
    if methods is not None and (not isinstance(methods, list) or "S256" not in methods):
        raise SmartError("the EHR does not support PKCE with S256 (code_challenge_methods_supported)")
    if methods is None:
        _log.warning("smart-configuration lists no code_challenge_methods_supported; sending S256 anyway")
    capabilities = doc.get("capabilities")
    caps = tuple(c for c in capabilities if isinstance(c, str)) if isinstance(capabilities, list) else ()
    if caps and "launch-ehr" not in caps:
        _log.warning("smart-configuration does not list the launch-ehr capability; trying anyway")
    return SmartConfiguration(authorize, token, methods is not None, caps)


# ---- authorisation request ------------------------------------------------------------------


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair (RFC 7636): the verifier stays on the server, the S256 challenge is sent."""

    verifier: str = field(repr=False)
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set (43-128 allowed)
        return cls(verifier, challenge_for(verifier))


def challenge_for(verifier: str) -> str:
    """The S256 code challenge: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """An unguessable `state` (256 bits)."""
    return secrets.token_urlsafe(32)


def authorize_url(
    config: SmartConfiguration,
    *,
    client_id: str,
    redirect_uri: str,
    launch: str,
    state: str,
    aud: str,
    challenge: str,
    scope: str = SCOPE,
) -> str:
    """Where the browser goes to sign in at the EHR; a query the endpoint already has is kept."""
    parts = urlsplit(config.authorization_endpoint)
    params = parse_qsl(parts.query, keep_blank_values=True) + [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("launch", launch),
        ("scope", scope),
        ("state", state),
        ("aud", aud),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    return urlunsplit(parts._replace(query=urlencode(params)))


# ---- token ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenResponse:
    """What the token endpoint granted. The token never appears in a repr."""

    access_token: str = field(repr=False)
    expires_in: int
    scope: str
    patient: str
    encounter: str | None = None
    need_patient_banner: bool = False
    app_context: str | None = field(default=None, repr=False)


def _fhir_id(value: Any, name: str, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _FHIR_ID.fullmatch(value):
        raise SmartError(f"token response has no valid {name} id")
    return value


def parse_token_response(doc: Any) -> TokenResponse:
    """Check a token response: a Bearer token and the patient in context are required (the page
    writes to one patient's record or to none)."""
    if not isinstance(doc, dict):
        raise SmartError("token response is not a JSON object")
    token = doc.get("access_token")
    if not isinstance(token, str) or not token:
        raise SmartError("token response has no access_token")
    if not isinstance(doc.get("token_type"), str) or doc["token_type"].lower() != "bearer":
        raise SmartError("token response token_type is not Bearer")
    expires = doc.get("expires_in", DEFAULT_EXPIRES_IN)
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
        raise SmartError("token response expires_in is not a positive whole number")
    scope = doc.get("scope", "")
    if not isinstance(scope, str):
        raise SmartError("token response scope is not a string")
    patient = _fhir_id(doc.get("patient"), "patient", required=True)
    assert patient is not None
    context = doc.get("appContext")
    return TokenResponse(
        access_token=token,
        expires_in=min(expires, MAX_EXPIRES_IN),
        scope=scope,
        patient=patient,
        encounter=_fhir_id(doc.get("encounter"), "encounter", required=False),
        need_patient_banner=doc.get("need_patient_banner") is True,
        app_context=context if isinstance(context, str) else None,
    )


async def exchange_code(
    config: SmartConfiguration,
    *,
    code: str,
    redirect_uri: str,
    verifier: str,
    client_id: str,
    client: httpx.AsyncClient,
) -> TokenResponse:
    """Trade the authorisation code for a token (a public client: `client_id` in the form)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    try:
        reply = await client.post(config.token_endpoint, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise SmartError(f"token endpoint could not be reached ({type(exc).__name__})") from None
    if reply.status_code != 200:
        raise SmartError(f"token endpoint answered HTTP {reply.status_code} ({_oauth_error(reply)})")
    try:
        doc = reply.json()
    except ValueError:
        raise SmartError("token response is not JSON") from None
    return parse_token_response(doc)


def _oauth_error(reply: httpx.Response) -> str:
    """The OAuth `error` code of a refusal (a short code from a fixed list), never its free text."""
    try:
        error = reply.json().get("error")
    except (ValueError, AttributeError):
        return "no error code"
    return error if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,40}", error) else "no error code"


# ---- scopes ---------------------------------------------------------------------------------

_SCOPE_RE = re.compile(
    r"(?P<who>patient|user)/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perm>[a-z*]+)(?P<query>\?\S*)?"
)


@dataclass(frozen=True)
class Grants:
    """What the granted scopes allow, by resource type: SMART v2 (`patient/Observation.c`,
    `.cruds`) and v1 (`patient/Observation.write`, `.*`), for `patient/` and `user/` scopes.
    A v2 scope narrowed by a query (`.c?category=...`) is not taken as a grant: the page does not
    check that what it writes meets the condition."""

    creates: frozenset[str]
    reads: frozenset[str]

    @classmethod
    def parse(cls, scope: str) -> Grants:
        creates: set[str] = set()
        reads: set[str] = set()
        for item in scope.split():
            match = _SCOPE_RE.fullmatch(item)
            if match is None or match["query"]:
                continue
            kind, perm = match["type"], match["perm"]
            if perm in ("write", "*") or (re.fullmatch("c?r?u?d?s?", perm) and "c" in perm):
                creates.add(kind)
            if perm in ("read", "*") or (re.fullmatch("c?r?u?d?s?", perm) and "r" in perm):
                reads.add(kind)
        return cls(frozenset(creates), frozenset(reads))

    def may_create(self, resource_type: str) -> bool:
        return resource_type in self.creates or "*" in self.creates

    def may_read(self, resource_type: str) -> bool:
        return resource_type in self.reads or "*" in self.reads


# ---- reading the patient --------------------------------------------------------------------


@dataclass(frozen=True)
class PatientSummary:
    """Who the record is: shown beside the write-back, and the age and sex the interview needs."""

    name: str | None
    birth_date: str | None
    age: int | None
    sex: str | None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": _FHIR_JSON}


async def read_patient(
    fhir_base: str, token: str, patient: str, client: httpx.AsyncClient, today: datetime
) -> PatientSummary | None:
    """The patient in context, or None if it cannot be read (the interview then asks nothing
    more and shows no name)."""
    try:
        reply = await client.get(f"{fhir_base.rstrip('/')}/Patient/{patient}", headers=_bearer(token))
        doc = reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        _log.warning("the patient in context could not be read (%s)", type(exc).__name__)
        return None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Patient" or doc.get("id") != patient:
        _log.warning("the patient in context could not be read")
        return None
    born = doc.get("birthDate") if isinstance(doc.get("birthDate"), str) else None
    gender = doc.get("gender")
    return PatientSummary(
        name=_name(doc.get("name")),
        birth_date=born,
        age=_age(born, today),
        sex=gender if gender in ("female", "male") else None,
    )


def _name(names: Any) -> str | None:
    if not isinstance(names, list):
        return None
    for name in names:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()[:200]
        given = [g for g in name.get("given", []) if isinstance(g, str)]
        family = name.get("family")
        whole = " ".join([*given, family if isinstance(family, str) else ""]).strip()
        if whole:
            return whole[:200]
    return None


def _age(born: str | None, today: datetime) -> int | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", born or "")
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    age = today.year - year - ((today.month, today.day) < (month, day))
    return age if 0 <= age <= 120 else None


# ---- writing back ---------------------------------------------------------------------------

Status = Literal["written", "skipped", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one resource. `reason` is a code for the page to word:
    `no_scope`, `needs_unwritten` (it refers to a resource not written), `refused` (the server
    answered `http_status`) or `unreachable`."""

    resource_type: str
    status: Status
    reference: str | None = None
    reason: str | None = None
    http_status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_type": self.resource_type,
            "status": self.status,
            "reference": self.reference,
            "reason": self.reason,
            "http_status": self.http_status,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            resource_type=str(data["resource_type"]),
            status=data["status"],
            reference=data.get("reference"),
            reason=data.get("reason"),
            http_status=data.get("http_status"),
        )


def _local_names(resource: Mapping[str, Any]) -> set[str]:
    """How other resources of the same batch may refer to this one before it has a server id."""
    rid = resource.get("id")
    if not isinstance(rid, str):
        return set()
    return {f"{resource['resourceType']}/{rid}", f"urn:uuid:{rid}"}


def _references(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _waves(resources: Sequence[dict[str, Any]]) -> list[list[int]]:
    """The batch in waves: each resource in a wave after those of the batch it refers to, so a
    wave's resources can be sent at once."""
    owner = {name: i for i, r in enumerate(resources) for name in _local_names(r)}
    needs = [{owner[ref] for ref in _references(r) if ref in owner} - {i} for i, r in enumerate(resources)]
    done: set[int] = set()
    waves: list[list[int]] = []
    while len(done) < len(resources):
        left = [i for i in range(len(resources)) if i not in done]
        # A cycle (none is expected): take the first left; its reference into the cycle is dropped.
        ready = [i for i in left if needs[i] <= done] or left[:1]
        waves.append(ready)
        done.update(ready)
    return waves


def _rewrite(node: Any, written: Mapping[str, str | None], local: set[str]) -> tuple[Any, bool]:
    """A copy with each reference to a resource of the batch pointing at its server id, and each
    reference to one not written (or written without an id) removed, as are elements left empty.
    Also says whether anything was removed."""
    removed = False
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref in local:
            if written.get(ref) is None:
                return None, True
            node = {**node, "reference": written[ref]}
        out: dict[str, Any] = {}
        for key, value in node.items():
            new, gone = _rewrite(value, written, local)
            removed = removed or gone
            if new is not None and new != {} and new != []:
                out[key] = new
        return out, removed
    if isinstance(node, list):
        items = []
        for value in node:
            new, gone = _rewrite(value, written, local)
            removed = removed or gone
            if new is not None and new != {} and new != []:
                items.append(new)
        return items, removed
    return node, False


def _still_valid(resource: dict[str, Any]) -> bool:
    """Whether a resource with references removed is still a valid R4 resource (a required
    reference, such as Provenance.target or agent.who, may have gone)."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValueError:
        return False
    return True


async def _create(
    client: httpx.AsyncClient, fhir_base: str, token: str, body: dict[str, Any]
) -> tuple[Outcome, str | None]:
    kind = str(body["resourceType"])
    url = f"{fhir_base.rstrip('/')}/{kind}"
    headers = {**_bearer(token), "Content-Type": _FHIR_JSON, "Prefer": "return=minimal"}
    if kind == "Device" and (found := _identifier_search(body)):
        headers["If-None-Exist"] = found  # one Device per program and knowledge base, not per result
    try:
        reply = await client.post(url, content=json.dumps(body), headers=headers)
    except httpx.HTTPError as exc:
        _log.warning("write-back of a %s got no answer (%s)", kind, type(exc).__name__)
        return Outcome(kind, "failed", reason="unreachable"), None
    if reply.status_code not in (200, 201):
        _log.warning("write-back of a %s refused with HTTP %s", kind, reply.status_code)
        return Outcome(kind, "failed", reason="refused", http_status=reply.status_code), None
    reference = _created_reference(kind, reply)
    return Outcome(kind, "written", reference=reference, http_status=reply.status_code), reference


def _identifier_search(body: Mapping[str, Any]) -> str | None:
    """A conditional create's search (`identifier=system|value`) for a resource's first
    identifier: a server that supports it returns the one it has instead of a copy."""
    for identifier in body.get("identifier", []):
        system, value = identifier.get("system"), identifier.get("value")
        if isinstance(system, str) and isinstance(value, str):
            return urlencode({"identifier": f"{system}|{value}"})
    return None


def _created_reference(kind: str, reply: httpx.Response) -> str | None:
    """`Type/id` of what the server created: from Location (or Content-Location), else the body."""
    for header in ("location", "content-location"):
        match = _LOCATION.search(urlsplit(reply.headers.get(header, "")).path)
        if match and match["type"] == kind:
            return f"{kind}/{match['id']}"
    try:
        body = reply.json()
    except ValueError:
        return None
    rid = body.get("id") if isinstance(body, dict) and body.get("resourceType") == kind else None
    return f"{kind}/{rid}" if isinstance(rid, str) and _FHIR_ID.fullmatch(rid) else None


async def create_resources(
    client: httpx.AsyncClient,
    fhir_base: str,
    token: str,
    grants: Grants,
    resources: Sequence[Mapping[str, Any]],
) -> list[Outcome]:
    """POST each resource (JSON) that the grants allow creating, each after those it refers to
    (a few at once); what each became, in the order given."""
    batch = [dict(r) for r in resources]
    for r in batch:
        if not isinstance(r.get("resourceType"), str) or not _FHIR_TYPE.fullmatch(r["resourceType"]):
            raise SmartError("a resource to write has no valid resourceType")
    local = {name for r in batch for name in _local_names(r)}
    written: dict[str, str | None] = {}
    outcomes: dict[int, Outcome] = {}
    at_once = anyio.CapacityLimiter(PARALLEL_WRITES)

    async def one(i: int) -> None:
        resource = batch[i]
        kind = resource["resourceType"]
        reference = None
        if not grants.may_create(kind):
            outcome = Outcome(kind, "skipped", reason="no_scope")
        else:
            body, removed = _rewrite({k: v for k, v in resource.items() if k != "id"}, written, local)
            if removed and not _still_valid(body):
                outcome = Outcome(kind, "skipped", reason="needs_unwritten")
            else:
                async with at_once:
                    outcome, reference = await _create(client, fhir_base, token, body)
        outcomes[i] = outcome
        written.update(dict.fromkeys(_local_names(resource), reference))

    for wave in _waves(batch):
        async with anyio.create_task_group() as group:
            for i in wave:
                group.start_soon(one, i)
    return [outcomes[i] for i in range(len(batch))]


async def write_back(
    client: httpx.AsyncClient,
    fhir_base: str,
    token: str,
    grants: Grants,
    kb: KnowledgeBase,
    view: InterviewView,
    patient: str,
    when: datetime,
) -> list[Outcome]:
    """Write a finished interview to the patient's record: the QuestionnaireResponse first, then
    the assessment's resources (which refer to it when it was written)."""
    from backtriage.interop.fhir.questionnaire import completed_questionnaire_response
    from backtriage.interop.fhir.resources import assessment_resources

    if view.assessment is None:
        raise SmartError("the interview is not finished")
    subject = f"Patient/{patient}"
    qr = completed_questionnaire_response(kb, view, subject=subject, authored=when)
    first = await create_resources(client, fhir_base, token, grants, [_json(qr)])
    reference = first[0].reference
    rest = assessment_resources(
        kb, view.assessment, subject=subject, questionnaire_response=reference, when=when
    )
    return first + await create_resources(client, fhir_base, token, grants, [_json(r) for r in rest])


def _json(resource: Any) -> dict[str, Any]:
    """A FHIR model as the JSON it is sent as (decimals exactly as the model writes them)."""
    data: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    return data
