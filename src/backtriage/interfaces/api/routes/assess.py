from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.interfaces.api.deps import Caller, ServiceDep
from backtriage.interfaces.api.schemas import AssessIn, ErrorOut, ParseIn

router = APIRouter(prefix="/v1", tags=["assessment"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    401: {"model": ErrorOut},
    413: {"model": ErrorOut},
    422: {"model": ErrorOut},
    429: {"model": ErrorOut},
}


@router.post(
    "/assess", response_model=Assessment, responses=ERRORS, summary="Assess answers and/or free text"
)
async def assess(body: AssessIn, service: ServiceDep, key_id: Caller) -> Response:
    # CPU-bound and quick: run it on the event loop rather than in a thread pool, and send the
    # model's own JSON instead of validating it a second time against the response model.
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    result = service.assess(case, text=body.text, api_key_id=key_id)
    if body.top:
        result = result.model_copy(update={"conditions": result.conditions[: body.top]})
    return Response(result.model_dump_json(), media_type="application/json")


@router.post("/parse", responses=ERRORS, summary="Findings read from text, with spans and context")
async def parse(body: ParseIn, service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    from backtriage.text import understand

    found = understand(body.text, kb=service.engine.kb)
    assert found.reading is not None
    return {"answers": found.answers, **found.reading.model_dump(mode="json")}
