from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from backtriage.domain.case import Case
from backtriage.interfaces.api.deps import Caller, ServiceDep
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
}


@router.post(
    "",
    response_model=InterviewView,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Start an interview; returns its id and first question",
)
async def start(body: InterviewStart, service: ServiceDep, key_id: Caller) -> InterviewView:
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    return service.start_interview(case, text=body.text, api_key_id=key_id)


@router.post(
    "/{interview_id}/answers",
    response_model=InterviewView,
    responses=ERRORS,
    summary="Answer the current question; returns the next question or the assessment",
)
async def answer(interview_id: str, body: AnswersIn, service: ServiceDep, key_id: Caller) -> InterviewView:
    return service.answer(interview_id, body.answers)


@router.get(
    "/{interview_id}",
    response_model=InterviewView,
    responses=ERRORS,
    summary="The interview's state: current question or final assessment",
)
async def get(interview_id: str, service: ServiceDep, key_id: Caller) -> InterviewView:
    return service.get_interview(interview_id)
