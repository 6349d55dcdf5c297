"""The CDS Hooks 2.0 service: discovery, the hooks and their feedback, under /cds-services.

These routes do not take a backtriage API key: the EHR proves who it is with a signed JWT on
every hook and feedback call (`interop.cds_hooks.security`). Discovery is public on purpose: it
lists the services and the data they ask for, the same for everyone and nothing about any
patient, and EHRs often make their first discovery call without a token (cds-hooks/sandbox #82).
A JWT sent with it is accepted and not needed. Until trusted EHRs are configured
(BACKTRIAGE_CDS_ISSUERS) the hooks answer 503 `not_configured`: no call is ever taken unsigned.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backtriage.interfaces.api.deps import ApiError, ServiceDep, limit, off_the_loop
from backtriage.interfaces.api.responses import errors
from backtriage.interfaces.presentation import languages
from backtriage.interop.cds_hooks import prefetch, security
from backtriage.interop.cds_hooks.models import CdsResponse, Discovery, FeedbackIn, FeedbackOut, HookRequest
from backtriage.interop.cds_hooks.service import SERVICES, discovery, respond
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.settings import Settings

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])
_log = logging.getLogger("backtriage.cds_hooks")

_jwt = HTTPBearer(
    auto_error=False,
    scheme_name="EhrJwt",
    bearerFormat="JWT",
    description="A JWT signed by a trusted EHR (CDS Hooks 2.0); not a backtriage API key.",
)

_NOT_CONFIGURED = "no EHR is trusted yet (set BACKTRIAGE_CDS_ISSUERS)"

_ERRORS: dict[int, tuple[str, str, str, str | None]] = {
    400: ("The body is not valid JSON.", "bad_request", "the request body is not valid JSON", None),
    401: (
        "The EHR's JWT was refused; `code` says why (bad_audience, expired, replayed, "
        "symmetric_algorithm, unknown_key, untrusted_issuer, untrusted_jku, ...).",
        "bad_audience",
        "the JWT was refused: bad_audience",
        None,
    ),
    404: (
        "No service with this id.",
        "not_found",
        "no CDS service with this id (GET /cds-services lists them)",
        None,
    ),
    412: (
        "Prefetch data was neither sent nor fetchable from the EHR's trusted FHIR server.",
        "prefetch_unavailable",
        "prefetch observations: not sent, and no FHIR server with a token to fetch them",
        "prefetch",
    ),
    413: (
        "The body is larger than BACKTRIAGE_MAX_BODY_BYTES.",
        "too_large",
        "request body is too large",
        None,
    ),
    422: (
        "A field is invalid; `field` names it.",
        "invalid_input",
        "context.patientId: String should match pattern",
        "context.patientId",
    ),
    429: (
        "Too many requests from this EHR (or client).",
        "rate_limited",
        "too many requests; slow down",
        None,
    ),
    500: (
        "Something failed on the server (logged by type only).",
        "internal_error",
        "something went wrong on our side; please try again",
        None,
    ),
    503: (
        "No EHR is trusted yet (`not_configured`: set BACKTRIAGE_CDS_ISSUERS), or the call ran "
        "out of time (`busy`).",
        "not_configured",
        _NOT_CONFIGURED,
        None,
    ),
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return errors(*statuses, table=_ERRORS)


def _ok(description: str, example: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"example": example}}}}


_CARD_EXAMPLE: dict[str, Any] = {
    "cards": [
        {
            "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "summary": "Emergency: Saddle numbness with new bladder or bowel trouble; most likely Cauda "
            "equina syndrome.",
            "indicator": "critical",
            "detail": "**Red flags in the record** ...",
            "source": {"label": f"backtriage KB {load_knowledge_base().version}"},
            "links": [
                {
                    "label": "Open the backtriage interview",
                    "url": "https://backtriage.example.org/smart/launch",
                    "type": "smart",
                    "appContext": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                }
            ],
        }
    ]
}


def _base_url(request: Request, settings: Settings) -> str:
    """This server's address as the EHR uses it: the configured public URL (behind a proxy the
    request's own URL is not what the EHR called; set it in production) or else the request's."""
    return settings.public_url or str(request.base_url).rstrip("/")


def _card_language(request: Request, settings: Settings) -> str:
    """The EHR's Accept-Language when backtriage speaks one of its languages, else the service's
    own (BACKTRIAGE_LANG, checked when the server starts)."""
    asked = languages.negotiate(request.headers.get("accept-language"))
    return (asked or languages.parse_locale(settings.language)).language


def _keys(request: Request) -> security.KeyStore:
    state = request.app.state
    if getattr(state, "cds_keys", None) is None:
        state.cds_keys = security.KeyStore()
    return state.cds_keys  # type: ignore[no-any-return]


async def cds_caller(
    request: Request,
    service_id: str,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_jwt)],
) -> security.VerifiedCaller:
    """The EHR that signed this call (404 unknown service, 503 nothing configured, 401 refused
    with its reason, 429 too many). Failed calls count against the client's own limit."""
    if service_id not in SERVICES:
        raise ApiError(404, "not_found", "no CDS service with this id (GET /cds-services lists them)")
    settings: Settings = request.app.state.settings
    if not settings.cds_issuers:
        raise ApiError(503, "not_configured", _NOT_CONFIGURED)
    # `aud` must be exactly the URL called, or the discovery URL (CDS Hooks 2.0); feedback may
    # also name the service it is about.
    base, path = _base_url(request, settings), f"/cds-services/{service_id}"
    called = path + ("/feedback" if request.url.path.endswith("/feedback") else "")
    audiences = sorted({base + "/cds-services", base + path, base + called})
    store = request.app.state.service.store
    try:
        caller = await anyio.to_thread.run_sync(
            lambda: security.verify_token(
                request.headers.get("authorization"),
                issuers=settings.cds_issuers,
                audiences=audiences,
                max_age=settings.cds_token_max_age,
                keys=_keys(request),
                first_use=store.first_use_of_token,
            )
        )
    except security.TokenRefused as refused:
        _log.warning("cds-hooks: JWT refused: %s", refused.reason)
        host = request.client.host if request.client else "local"
        limit(request, f"failed-auth:{host}")
        raise ApiError(
            401,
            refused.reason,
            f"the JWT was refused: {refused.reason}",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    limit(request, f"cds:{caller.issuer.iss}")
    return caller


CdsCaller = Annotated[security.VerifiedCaller, Depends(cds_caller)]


@router.get(
    "",
    response_model=Discovery,
    response_model_exclude_none=True,
    responses={
        **_ok(
            "The services and what each asks the EHR to prefetch.", discovery().model_dump(exclude_none=True)
        ),
        **_errors(429, 500),
    },
    summary="CDS Hooks discovery (public: no JWT needed)",
)
async def list_services(request: Request) -> Discovery:
    host = request.client.host if request.client else "local"
    limit(request, f"cds-discovery:{host}")
    return discovery()


@router.post(
    "/{service_id}",
    response_model=CdsResponse,
    response_model_exclude_none=True,
    responses={
        **_ok(
            'One card, or `{"cards": []}` when the record says nothing about back numbness.', _CARD_EXAMPLE
        ),
        **_errors(400, 401, 404, 412, 413, 422, 429, 500, 503),
    },
    summary="Call a hook (patient-view or encounter-start) with the EHR's JWT",
)
async def call_hook(
    service_id: str, body: HookRequest, caller: CdsCaller, service: ServiceDep, request: Request
) -> Response:
    hook = SERVICES[service_id]
    if body.hook != hook:
        raise ApiError(422, "invalid_input", f"hook: this service answers '{hook}'", "hook")
    if hook == "encounter-start" and body.context.encounterId is None:
        raise ApiError(422, "invalid_input", "context.encounterId: required by encounter-start", "context")
    token = body.fhirAuthorization.access_token if body.fhirAuthorization else None
    try:
        # The EHR's FHIR server may be slow: in a thread of its own, not one of the work slots.
        data = await anyio.to_thread.run_sync(
            prefetch.gather, body.prefetch, body.context.patientId, caller.issuer, body.fhirServer, token
        )
    except prefetch.PrefetchUnavailable as missing:
        _log.warning("cds-hooks: 412, prefetch unavailable: %s", ", ".join(missing.keys))
        raise ApiError(412, "prefetch_unavailable", f"prefetch {missing}", "prefetch") from None
    settings: Settings = request.app.state.settings
    today = datetime.now(UTC).date()
    language = _card_language(request, settings)
    base = _base_url(request, settings)
    answer = await off_the_loop(request, respond, service, body, data, base, today, language)
    # The model's own JSON, without validating it a second time against the response model;
    # no field without a value (the spec forbids null).
    return Response(answer.model_dump_json(exclude_none=True), media_type="application/json")


@router.post(
    "/{service_id}/feedback",
    response_model=FeedbackOut,
    responses={
        **_ok("The feedback was recorded.", {"stored": 1}),
        **_errors(400, 401, 404, 413, 422, 429, 500, 503),
    },
    summary="Feedback on a card (accepted or overridden), with the EHR's JWT",
)
async def feedback(
    service_id: str, body: FeedbackIn, caller: CdsCaller, service: ServiceDep, request: Request
) -> FeedbackOut:
    settings: Settings = request.app.state.settings
    items = []
    for item in body.feedback:
        stored = item.model_dump(mode="json", exclude_none=True)
        comment = stored.get("overrideReason", {}).pop("userComment", None)
        if comment is not None and settings.store_text:
            # A clinician's free text may name the patient: kept only where text is kept.
            stored["overrideReason"]["userComment"] = comment
        items.append(stored)
    count = await off_the_loop(request, service.store.add_cds_feedback, service_id, caller.issuer.iss, items)
    return FeedbackOut(stored=count)
