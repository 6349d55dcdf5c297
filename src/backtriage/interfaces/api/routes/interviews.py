from __future__ import annotations

from fastapi import APIRouter, Request, status

from backtriage.domain.case import Case
from backtriage.interfaces.api.deps import Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.responses import errors
from backtriage.interfaces.api.schemas import AnswersIn, InterviewStart
from backtriage.service import InterviewView

router = APIRouter(prefix="/v1/interviews", tags=["interviews"])


@router.post(
    "",
    response_model=InterviewView,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 413, 422, 429, 500, 503),
    summary="Start an interview; returns its id and first question",
)
async def start(body: InterviewStart, service: ServiceDep, key_id: Caller, request: Request) -> InterviewView:
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    return await off_the_loop(request, service.start_interview, case, body.text, key_id)


@router.post(
    "/{interview_id}/answers",
    response_model=InterviewView,
    responses=errors(400, 401, 404, 409, 413, 422, 429, 500, 503),
    summary="Answer the current question; returns the next question or the assessment",
)
async def answer(
    interview_id: str, body: AnswersIn, service: ServiceDep, key_id: Caller, request: Request
) -> InterviewView:
    return await off_the_loop(request, service.answer, interview_id, body.answers, key_id)


@router.get(
    "/{interview_id}",
    response_model=InterviewView,
    responses=errors(401, 404, 429, 500, 503),
    summary="The interview's state: current question or final assessment",
)
async def get(interview_id: str, service: ServiceDep, key_id: Caller, request: Request) -> InterviewView:
    return await off_the_loop(request, service.get_interview, interview_id, key_id)
