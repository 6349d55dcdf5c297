"""The HTTP API (FastAPI). `create_app` wires settings, store, service and routes."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backtriage import __version__
from backtriage.errors import BacktriageError, ConflictError, InvalidInputError, NotFoundError
from backtriage.interfaces.api.deps import ApiError, RateLimiter
from backtriage.interfaces.api.responses import add_success_examples
from backtriage.interfaces.api.routes import (
    assess,
    cds_hooks,
    fhir,
    fhir_questionnaire,
    health,
    interviews,
    knowledge,
)
from backtriage.interfaces.api.work import WorkSlots
from backtriage.reasoning.engine import default_engine
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore

__all__ = ["create_app"]

_log = logging.getLogger("backtriage.api")


def _error(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        headers=headers,
        content={"error": {"code": code, "message": message, "field": field}},
    )


#: Calls whose body holds answers only, never free text: a few kilobytes at most, so this is
#: generous. (Bodies that can hold a 100,000-character text keep `Settings.max_body_bytes`.)
ANSWERS_MAX_BODY_BYTES = 256 * 1024
_ANSWERS_ONLY = re.compile(r"/v1/interviews/[^/]+/answers")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, or over the smaller limit of a path in
    ``limits`` (a plain ASGI middleware: Starlette's decorator-style middleware costs more per
    request than the assessment itself)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, limits: tuple[tuple[re.Pattern[str], int], ...] = ()
    ) -> None:
        self.app, self.max_bytes, self.limits = app, max_bytes, limits

    def limit(self, path: str) -> int:
        return min([n for pattern, n in self.limits if pattern.fullmatch(path)] + [self.max_bytes])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > max_bytes:
                await _refuse(max_bytes, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read the body first, up to the limit, then replay it.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > max_bytes:
                await _refuse(max_bytes, scope, receive, send)
                return
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = _error(413, "too_large", f"request body is larger than {max_bytes} bytes")
    await response(scope, receive, send)


#: Longest part of a field's path quoted back in a 422 (an answer key can be any length).
_FIELD_PART_CHARS = 40


def _invalid(exc: RequestValidationError) -> JSONResponse:
    """400 for a body that is not JSON, else 422 naming the first invalid field; its size never
    grows with the input (long keys are cut, the list of finding ids is not repeated)."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return _error(400, "bad_request", "the request body is not valid JSON")
    loc = [_cut(str(p)) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = first.get("msg")
    if first.get("type") == "literal_error" and loc[:1] == ["answers"]:
        message = "not a finding id (GET /v1/knowledge/findings lists them)"
    return _error(422, "invalid_input", f"{field or 'request'}: {message}", field)


def _cut(part: str) -> str:
    return part if len(part) <= _FIELD_PART_CHARS else part[:_FIELD_PART_CHARS] + "..."


class SafeHeaders:
    """Every response says: do not cache (it may hold health data) and do not sniff its type."""

    HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


@asynccontextmanager
async def _warm(app: FastAPI) -> AsyncIterator[None]:
    """Build the text pipeline before the first request, then freeze the start-up objects so the
    garbage collector stops walking the large, long-lived language resources (this removes most
    latency spikes under load)."""
    if app.state.warm_up:
        from backtriage.text.identify import warm_up
        from backtriage.text.pipeline import default_pipeline

        default_pipeline()
        warm_up()
        gc.collect()
        gc.freeze()
    yield


def create_app(
    settings: Settings | None = None, service: TriageService | None = None, warm_up: bool = False
) -> FastAPI:
    """The API. With no arguments (as uvicorn's factory for several workers) everything comes
    from the environment, the store is migrated and the pipeline is warmed up."""
    if settings is None:
        settings = Settings.from_env()
        warm_up = True
    _language_spoken(settings.language)
    if service is None:
        store = AuditStore(settings.database_url)
        store.upgrade()
        service = TriageService(store, default_engine(settings.emergency_number), settings.store_text)
    app = FastAPIOffline(  # Swagger UI and ReDoc from package files, so /docs works offline
        lifespan=_warm,
        redirect_slashes=False,  # a redirect would copy the caller's Host header into Location
        title="backtriage",
        version=__version__,
        summary="Triage for numbness and tingling in the back: urgency, likely causes and why.",
        description=f"Not a substitute for a clinician. In an emergency call {settings.emergency_number}. "
        "Send `Authorization: Bearer <API key>` unless the server "
        "runs with --no-auth.",
    )
    app.state.warm_up = warm_up
    app.state.settings = settings
    app.state.service = service
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.work_slots = WorkSlots(settings.work_threads)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        limits=((_ANSWERS_ONLY, ANSWERS_MAX_BODY_BYTES),),
    )
    app.add_middleware(SafeHeaders)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _page_error(request, exc.status, exc.headers, exc.code) or _error(
            exc.status, exc.code, exc.message, exc.field, exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _page_error(request, 422) or _invalid(exc)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _page_error(request, 404) or _error(404, "not_found", str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, exc: ConflictError) -> Response:
        return _page_error(request, 409) or _error(409, "conflict", str(exc))

    @app.exception_handler(BacktriageError)
    async def bad_input(request: Request, exc: BacktriageError) -> Response:
        return _page_error(request, 422) or _error(422, "invalid_input", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _page_error(request, exc.status_code, headers) or _error(
            exc.status_code, code, str(exc.detail), headers=headers
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        # The type only: an exception's message can quote what it was given.
        _log.error("internal error: %s", type(exc).__name__)
        return _page_error(request, 500) or _error(
            500, "internal_error", "something went wrong on our side; please try again"
        )

    for module in (health, assess, interviews, knowledge, fhir, fhir_questionnaire, cds_hooks):
        app.include_router(module.router)
    from backtriage.interfaces.web import mount_page

    mount_page(app)  # the patient's page at /, from the same process and service
    add_success_examples(app, service)
    if not settings.require_api_key:
        _document_as_open(app)
    return app


def _language_spoken(language: str) -> None:
    """A service default language backtriage does not speak stops the server at its start."""
    from backtriage.interfaces.presentation import languages

    try:
        languages.parse_locale(language)
    except InvalidInputError as exc:
        raise InvalidInputError(f"BACKTRIAGE_LANG: {exc}") from None


def _page_error(
    request: Request, status: int, headers: dict[str, str] | None = None, code: str | None = None
) -> Response | None:
    """The error as a page in the page's style when the request was the page's (a person in a
    browser, not a client of the API); None otherwise."""
    from backtriage.interfaces.web import error_page, is_page_request

    return error_page(request, status, headers, code) if is_page_request(request) else None


def _document_as_open(app: FastAPI) -> None:
    """In open local mode no call needs a key, so the document must not ask for one."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.pop("security", None)
        schema.get("components", {}).pop("securitySchemes", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
