from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.reader import reader
from backtriage.interfaces.api.responses import errors
from backtriage.interfaces.api.schemas import AssessIn, ParseIn
from backtriage.interfaces.presentation import languages

router = APIRouter(prefix="/v1", tags=["assessment"])


class AssessmentOut(Assessment):
    """The assessment, what backtriage is and is not, and the result in words when asked for."""

    disclaimer: str = Field(description="What backtriage is and is not, with the emergency number.")
    explanation: presentation.Explanation | None = Field(
        default=None, description="The result in words; present when the request asked `explain`."
    )


ERRORS = errors(400, 401, 413, 422, 429, 500, 503)


@router.post(
    "/assess", response_model=AssessmentOut, responses=ERRORS, summary="Assess answers and/or free text"
)
async def assess(body: AssessIn, service: ServiceDep, key_id: Caller, request: Request) -> Response:
    # In a worker thread within the time budget: reading text can take a while, and even answers
    # alone write to the audit store, which may wait on a lock. The model's own JSON is sent
    # instead of validating it a second time against the response model.
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    result = await off_the_loop(request, service.assess, case, body.text, key_id)
    # In the caller's language: what is stored stays as reasoned, only what is sent is worded.
    who = reader(request, service.engine.kb, body.lang)
    result = who.assessment(result)
    # Built as text: the model's own JSON and the words, without validating all of it again.
    with languages.speaking(who.locale.language):
        words: dict[str, object] = {"disclaimer": presentation.words.disclaimer(result.emergency_number)}
        if body.explain:
            words["explanation"] = presentation.explanation(who.kb, result).model_dump(mode="json")
    shown = presentation.top_causes(result, body.top).model_dump_json()
    return Response(shown[:-1] + "," + json.dumps(words)[1:], media_type="application/json")


@router.post("/parse", responses=ERRORS, summary="Findings read from text, with spans and context")
async def parse(body: ParseIn, service: ServiceDep, key_id: Caller, request: Request) -> dict[str, Any]:
    from backtriage.text import understand

    found = await off_the_loop(request, understand, body.text, None, service.engine.kb)
    return presentation.parse_view(found)
