"""FHIR R4 endpoints under /fhir: the CapabilityStatement, backtriage's terminology resources and
the SDC adaptive questionnaire (`Questionnaire/$next-question`, in `fhir_questionnaire`).

Bodies are FHIR JSON (`application/fhir+json`); errors (an unknown id, the rate limit) are an
OperationOutcome. No API key: the CapabilityStatement and the terminology are public, as FHIR
clients expect; the per-client rate limit still applies. The routes stay out of the OpenAPI
document: FHIR clients read the CapabilityStatement, and the OpenAPI document describes the /v1
API's own JSON.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

from backtriage.interfaces.api.deps import ApiError, ServiceDep, limit
from backtriage.interfaces.presentation import fhir_text
from backtriage.interop.fhir import capability_statement, terminology_resource
from backtriage.settings import Settings

router = APIRouter(prefix="/fhir", tags=["fhir"])

FHIR_JSON = "application/fhir+json"


def fhir_response(resource: Resource, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = resource.model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)


def _outcome(status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> Response:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    outcome = OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": [issue]})
    return fhir_response(outcome, status, headers)


def _throttled(request: Request) -> Response | None:
    """The rate limit of a call that needs no key, per client address; an OperationOutcome once
    it is reached, since a FHIR client reads no other error body."""
    try:
        limit(request, request.client.host if request.client else "local")
    except ApiError as exc:
        return _outcome(exc.status, "throttled", exc.message, exc.headers)
    return None


def _base_url(request: Request) -> str:
    """This server's FHIR base: the configured public address (behind a proxy), else the
    address the request came to."""
    settings: Settings = request.app.state.settings
    root = settings.public_url or str(request.base_url).rstrip("/")
    return f"{root}{router.prefix}"


@router.get("/metadata", include_in_schema=False)
async def metadata(request: Request, service: ServiceDep) -> Response:
    if (refused := _throttled(request)) is not None:
        return refused
    return fhir_response(capability_statement(service.engine.kb, _base_url(request)))


async def _read(request: Request, service: ServiceDep, kind: str, resource_id: str) -> Response:
    if (refused := _throttled(request)) is not None:
        return refused
    found = terminology_resource(service.engine.kb, kind, resource_id)
    if found is None:
        return _outcome(404, "not-found", fhir_text.not_found(kind))
    return fhir_response(found)


@router.get("/CodeSystem/{resource_id}", include_in_schema=False)
async def code_system(request: Request, service: ServiceDep, resource_id: str) -> Response:
    return await _read(request, service, "CodeSystem", resource_id)


@router.get("/ValueSet/{resource_id}", include_in_schema=False)
async def value_set(request: Request, service: ServiceDep, resource_id: str) -> Response:
    return await _read(request, service, "ValueSet", resource_id)


@router.get("/ConceptMap/{resource_id}", include_in_schema=False)
async def concept_map(request: Request, service: ServiceDep, resource_id: str) -> Response:
    return await _read(request, service, "ConceptMap", resource_id)
