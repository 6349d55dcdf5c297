from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import Field

from backtriage.domain.case import Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import Caller, ServiceDep, off_the_loop
from backtriage.interfaces.api.reader import LANG_DESCRIPTION, Reader, reader
from backtriage.interfaces.api.responses import errors
from backtriage.interfaces.api.schemas import AnswersIn, InterviewStart
from backtriage.interfaces.presentation import languages
from backtriage.service import InterviewView, TriageService

router = APIRouter(prefix="/v1/interviews", tags=["interviews"])

Explain = Annotated[
    bool,
    Query(
        description="Add the words a person would read: why the current question is asked, why the "
        "interview stopped, and the result's `explanation` (as in `/v1/assess`)."
    ),
]
Lang = Annotated[
    str | None,
    Query(
        max_length=16,
        description=LANG_DESCRIPTION,
        examples=["es"],
        json_schema_extra={"pattern": languages.locale_pattern()},
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


def _out(service: TriageService, view: InterviewView, explain: bool, who: Reader) -> InterviewOut:
    """The interview in the caller's words (the stored interview stays as it is)."""
    kb, words = who.kb, presentation.words
    with languages.speaking(who.locale.language):
        question = who.question(view.question) if view.question is not None else None
        assessment = who.assessment(view.assessment) if view.assessment is not None else None
        extra: dict[str, object] = {
            "question": question,
            "assessment": assessment,
            "disclaimer": words.disclaimer(who.emergency_number),
        }
        if explain:
            if question is not None:
                extra["why_asked"] = words.why_asked(kb, question)
            if view.stop_reason is not None:
                extra["stopped"] = words.stopped(view.stop_reason)
            if assessment is not None:
                extra["explanation"] = presentation.explanation(kb, assessment)
    return InterviewOut.model_validate({**dict(view), **extra})


@router.post(
    "",
    response_model=InterviewOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 413, 422, 429, 500, 503),
    summary="Start an interview; returns its id and first question",
)
async def start(
    body: InterviewStart,
    service: ServiceDep,
    key_id: Caller,
    request: Request,
    explain: Explain = False,
    lang: Lang = None,
) -> InterviewOut:
    who = reader(request, service.engine.kb, lang)
    case = Case(answers=body.answers, age=body.age, sex=body.sex)
    view = await off_the_loop(request, service.start_interview, case, body.text, key_id)
    return _out(service, view, explain, who)


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
    lang: Lang = None,
) -> InterviewOut:
    who = reader(request, service.engine.kb, lang)
    view = await off_the_loop(request, service.answer, interview_id, body.answers, key_id)
    return _out(service, view, explain, who)


@router.get(
    "/{interview_id}",
    response_model=InterviewOut,
    responses=errors(401, 404, 422, 429, 500, 503),
    summary="The interview's state: current question or final assessment",
)
async def get(
    interview_id: str,
    service: ServiceDep,
    key_id: Caller,
    request: Request,
    explain: Explain = False,
    lang: Lang = None,
) -> InterviewOut:
    who = reader(request, service.engine.kb, lang)
    view = await off_the_loop(request, service.get_interview, interview_id, key_id)
    return _out(service, view, explain, who)
