"""`POST /fhir/Questionnaire/$next-question`: the interview as an SDC adaptive Questionnaire, for an
EHR's form filler. Stateless (the QuestionnaireResponse carries the whole interview); the result is
kept in the audit store once the interview completes, like every other assessment. Every failure,
authentication and rate limits included, is an OperationOutcome, as FHIR clients expect, not the
API's own error body.

Not in the OpenAPI document: a FHIR client learns of operations from the CapabilityStatement and
the SDC OperationDefinition, the bodies are resources the FHIR specification defines, and the
document's error schema does not describe an OperationOutcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from starlette.exceptions import HTTPException

from backtriage.domain.case import Case
from backtriage.interfaces.api.deps import ApiError, Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.routes.fhir import FHIR_JSON, fhir_response
from backtriage.interop.fhir.questionnaire import (
    AdaptiveRequestError,
    Issue,
    next_step,
    operation_outcome,
)

__all__ = ["FHIR_JSON", "FhirRoute", "router"]

_ACCEPTED = frozenset({FHIR_JSON, "application/json"})
#: FHIR issue-type codes for the statuses the API's own errors carry.
_ISSUE_CODES = {401: "login", 413: "too-long", 429: "throttled", 503: "transient"}

_log = logging.getLogger("backtriage.api")


def _failure(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return fhir_response(operation_outcome([Issue(code, "$", message)]), status, headers)


class FhirRoute(APIRoute):
    """A route whose failures, including those of its dependencies (the API key, the rate limit,
    the time budget), are answered as OperationOutcomes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except AdaptiveRequestError as exc:
                return fhir_response(exc.outcome(), exc.status)
            except ApiError as exc:
                code = _ISSUE_CODES.get(exc.status, "processing")
                return _failure(exc.status, code, exc.message, exc.headers)
            except HTTPException:
                raise
            except Exception as exc:  # the type only: a message can quote what it was given
                _log.error("internal error: %s", type(exc).__name__)
                return _failure(500, "exception", "something went wrong on our side; please try again")

        return handle


router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)


@router.post("/Questionnaire/$next-question", include_in_schema=False)
async def questionnaire_next_question(request: Request, service: ServiceDep, key_id: Caller) -> Response:
    """SDC `$next-question`: a QuestionnaireResponse (or a Parameters holding it) in, the same
    response with the next question, or completed with the result, out."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _ACCEPTED:
        return _failure(415, "not-supported", "send the body as application/fhir+json or application/json")
    body = await request.body()

    def work() -> QuestionnaireResponse:
        step = next_step(service.interviewer, body)
        if step.assessment is not None:
            service.record(Case(answers=step.answers), step.assessment, None, key_id)
        return step.response

    return fhir_response(await off_the_loop(request, work))
