from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.responses import errors
from backtriage.interfaces.api.schemas import AssessIn, ParseIn

router = APIRouter(prefix="/v1", tags=["assessment"])
ERRORS = errors(400, 401, 413, 422, 429, 500, 503)


@router.post(
    "/assess", response_model=Assessment, responses=ERRORS, summary="Assess answers and/or free text"
)
async def assess(body: AssessIn, service: ServiceDep, key_id: Caller, request: Request) -> Response:
    # In a worker thread within the time budget: reading text can take a while, and even answers
    # alone write to the audit store, which may wait on a lock. The model's own JSON is sent
    # instead of validating it a second time against the response model.
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    result = await off_the_loop(request, service.assess, case, body.text, key_id)
    return Response(
        presentation.top_causes(result, body.top).model_dump_json(), media_type="application/json"
    )


@router.post("/parse", responses=ERRORS, summary="Findings read from text, with spans and context")
async def parse(body: ParseIn, service: ServiceDep, key_id: Caller, request: Request) -> dict[str, Any]:
    from backtriage.text import understand

    found = await off_the_loop(request, understand, body.text, None, service.engine.kb)
    return presentation.parse_view(found)
