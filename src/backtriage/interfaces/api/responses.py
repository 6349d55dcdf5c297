"""What each call can answer, for the OpenAPI document: every status a route really returns, with
a description and an example body.

Error examples are fixed. Success examples are made by the running knowledge base when the
document is first asked for, so they always show what this version returns.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI

from backtriage.domain.case import Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api.schemas import ErrorOut
from backtriage.service import InterviewView, TriageService

__all__ = ["add_success_examples", "errors"]

_ERRORS: dict[int, tuple[str, str, str, str | None]] = {
    400: ("The body is not valid JSON.", "bad_request", "the request body is not valid JSON", None),
    401: (
        "No API key was sent, or it is unknown or revoked.",
        "unauthorized",
        "the API key is unknown or revoked",
        None,
    ),
    404: (
        "No interview with this id was made with this API key.",
        "not_found",
        "no interview with id '3f2b0c4e-0000-0000-0000-000000000000'",
        None,
    ),
    409: (
        "The interview is finished; start a new one.",
        "conflict",
        "interview '3f2b0c4e-0000-0000-0000-000000000000' is finished; start a new one",
        None,
    ),
    413: (
        "The body is larger than the limit (BACKTRIAGE_MAX_BODY_BYTES; 256 KiB for answers only).",
        "too_large",
        "request body is larger than 2097152 bytes",
        None,
    ),
    422: (
        "A field is invalid; `field` names it.",
        "invalid_input",
        "age: Input should be less than or equal to 120",
        "age",
    ),
    429: (
        "Too many requests for this key (or client); `Retry-After` says when to try again.",
        "rate_limited",
        "too many requests; slow down",
        None,
    ),
    500: (
        "Something failed on the server (logged by type only).",
        "internal_error",
        "something went wrong on our side; please try again",
        None,
    ),
    503: (
        "The call ran out of time (BACKTRIAGE_READ_TIMEOUT) and nothing was stored. `busy`: the "
        "server had too much to do (or its database was locked); retrying after `Retry-After` "
        "makes no duplicate. `too_slow`: reading this long text (a body of 20,000 bytes or more) "
        "took the time itself; send a shorter text.",
        "busy",
        "the server is busy; try again in a few seconds",
        None,
    ),
}


def errors(
    *statuses: int, table: dict[int, tuple[str, str, str, str | None]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries for these error statuses, each with its example body (description,
    code, message, field) from `table`, the API's own by default."""
    table = _ERRORS if table is None else table
    return {
        status: {
            "model": ErrorOut,
            "description": description,
            "content": {
                "application/json": {"example": {"error": {"code": code, "message": message, "field": field}}}
            },
        }
        for status in statuses
        for description, code, message, field in [table[status]]
    }


_EXAMPLE_ANSWERS: dict[str, bool | None] = {
    "saddle_anaesthesia": False,
    "bladder_dysfunction": False,
    "bowel_dysfunction": False,
    "posture_related": True,
    "resolves_with_movement": True,
}


def add_success_examples(app: FastAPI, service: TriageService) -> None:
    """Fill the success responses of the assessment and interview calls with real examples."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        paths = schema["paths"]
        examples = _examples(service)
        for path, method, status, example in (
            ("/healthz", "get", "200", examples["health"]),
            ("/v1/assess", "post", "200", examples["assessment"]),
            ("/v1/parse", "post", "200", examples["parse"]),
            ("/v1/interviews", "post", "201", examples["interview"]),
            ("/v1/interviews/{interview_id}/answers", "post", "200", examples["interview"]),
            ("/v1/interviews/{interview_id}", "get", "200", examples["interview"]),
            ("/v1/knowledge/findings", "get", "200", examples["findings"]),
            ("/v1/knowledge/conditions", "get", "200", examples["conditions"]),
        ):
            content = paths[path][method]["responses"][status].setdefault("content", {})
            content.setdefault("application/json", {})["example"] = example
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _examples(service: TriageService) -> dict[str, Any]:
    case = Case(answers=_EXAMPLE_ANSWERS, age=34)
    assessment = service.engine.assess(case)
    assessment = assessment.model_copy(update={"conditions": assessment.conditions[:2]})
    step = service.interviewer.step(Case(answers={}), [])
    interview = InterviewView(
        id=str(uuid.UUID(int=0x3F2B0C4E << 96)),
        status="active",
        done=False,
        question=step.question,
        assessment=None,
        questions_asked=0,
        answers={},
        stop_reason=None,
    )
    from backtriage import __version__
    from backtriage.text import understand

    kb = service.engine.kb
    found = understand("Pt denies saddle anaesthesia. 45M, numb L foot", kb=kb)
    findings, conditions = presentation.findings_listing(kb), presentation.conditions_listing(kb)
    disclaimer = presentation.words.disclaimer(service.engine.emergency_number)
    return {
        "health": {"status": "ok", "version": __version__, "kb_version": kb.version},
        "assessment": {**assessment.model_dump(mode="json"), "disclaimer": disclaimer},
        "parse": presentation.parse_view(found),
        "interview": {**interview.model_dump(mode="json"), "disclaimer": disclaimer},
        "findings": {**findings, "findings": findings["findings"][:1]},
        "conditions": {**conditions, "conditions": conditions["conditions"][:1]},
    }
