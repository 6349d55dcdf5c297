from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import Field

from backtriage.domain.case import Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.responses import errors
from backtriage.interfaces.api.schemas import AnswersIn, InterviewStart
from backtriage.service import InterviewView, TriageService

router = APIRouter(prefix="/v1/interviews", tags=["interviews"])

Explain = Annotated[
    bool,
    Query(
        description="Add the words a person would read: why the current question is asked, why the "
        "interview stopped, and the result's `explanation` (as in `/v1/assess`)."
    ),
]


class InterviewOut(InterviewView):
    """The interview, what backtriage is and is not, and its words when asked for (`explain`)."""

    disclaimer: str = Field(description="What backtriage is and is not, with the emergency number.")
    why_asked: str | None = Field(default=None, description="Why the current question is asked.")
    stopped: str | None = Field(default=None, description="Why the interview stopped, in words.")
    explanation: presentation.Explanation | None = Field(
        default=None, description="The result in words, once there is one."
    )


def _out(service: TriageService, view: InterviewView, explain: bool) -> InterviewOut:
    kb, words = service.engine.kb, presentation.words
    extra: dict[str, object] = {"disclaimer": words.disclaimer(service.engine.emergency_number)}
    if explain:
        if view.question is not None:
            extra["why_asked"] = words.why_asked(kb, view.question)
        if view.stop_reason is not None:
            extra["stopped"] = words.stopped(view.stop_reason)
        if view.assessment is not None:
            extra["explanation"] = presentation.explanation(kb, view.assessment)
    return InterviewOut.model_validate({**dict(view), **extra})


@router.post(
    "",
    response_model=InterviewOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 413, 422, 429, 500, 503),
    summary="Start an interview; returns its id and first question",
)
async def start(
    body: InterviewStart, service: ServiceDep, key_id: Caller, request: Request, explain: Explain = False
) -> InterviewOut:
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    view = await off_the_loop(request, service.start_interview, case, body.text, key_id)
    return _out(service, view, explain)


@router.post(
    "/{interview_id}/answers",
    response_model=InterviewOut,
    responses=errors(400, 401, 404, 409, 413, 422, 429, 500, 503),
    summary="Answer the current question; returns the next question or the assessment",
)
async def answer(
    interview_id: str,
    body: AnswersIn,
    service: ServiceDep,
    key_id: Caller,
    request: Request,
    explain: Explain = False,
) -> InterviewOut:
    view = await off_the_loop(request, service.answer, interview_id, body.answers, key_id)
    return _out(service, view, explain)


@router.get(
    "/{interview_id}",
    response_model=InterviewOut,
    responses=errors(401, 404, 422, 429, 500, 503),
    summary="The interview's state: current question or final assessment",
)
async def get(
    interview_id: str, service: ServiceDep, key_id: Caller, request: Request, explain: Explain = False
) -> InterviewOut:
    view = await off_the_loop(request, service.get_interview, interview_id, key_id)
    return _out(service, view, explain)
