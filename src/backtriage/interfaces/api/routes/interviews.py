from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from backtriage.domain.case import Case
from backtriage.interfaces.api.deps import Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.schemas import AnswersIn, ErrorOut, InterviewStart
from backtriage.service import InterviewView

router = APIRouter(prefix="/v1/interviews", tags=["interviews"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    401: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    413: {"model": ErrorOut},
    422: {"model": ErrorOut},
    429: {"model": ErrorOut},
    500: {"model": ErrorOut},
    503: {"model": ErrorOut, "description": "Reading the text took longer than the time budget."},
}


@router.post(
    "",
    response_model=InterviewView,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Start an interview; returns its id and first question",
)
async def start(body: InterviewStart, service: ServiceDep, key_id: Caller, request: Request) -> InterviewView:
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    return await off_the_loop(request, service.start_interview, case, body.text, key_id)


@router.post(
    "/{interview_id}/answers",
    response_model=InterviewView,
    responses=ERRORS,
    summary="Answer the current question; returns the next question or the assessment",
)
async def answer(
    interview_id: str, body: AnswersIn, service: ServiceDep, key_id: Caller, request: Request
) -> InterviewView:
    return await off_the_loop(request, service.answer, interview_id, body.answers, key_id)


@router.get(
    "/{interview_id}",
    response_model=InterviewView,
    responses=ERRORS,
    summary="The interview's state: current question or final assessment",
)
async def get(interview_id: str, service: ServiceDep, key_id: Caller, request: Request) -> InterviewView:
    return await off_the_loop(request, service.get_interview, interview_id, key_id)
