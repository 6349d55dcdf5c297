"""The patient's page: an interview in the browser, served by `backtriage serve` at `/`.

Server-rendered HTML (Jinja2) that works without JavaScript; `static/page.js` only adds the body
map's clicks, printing and copying. The interview is kept in a cookie (HttpOnly, SameSite=Strict),
so nothing about the person is ever in a URL. Every page goes through the same service as the
API, and all wording comes from `interfaces.presentation`.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import BacktriageError, ConflictError, NotFoundError
from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import ApiError, limit, off_the_loop
from backtriage.interfaces.web.answers import answers_from_form
from backtriage.interfaces.web.bodymap import BODY_MAP, LEG_DERMATOMES, OUTLINES
from backtriage.service import WEB_OWNER, InterviewView, TriageService

__all__ = ["error_page", "is_page_request", "mount_page"]

COOKIE = "bt_interview"
#: The page's anti-forgery token: a cookie another site's form can never send (SameSite=Strict),
#: repeated in every form, where another site cannot read it.
CSRF_COOKIE = "bt_csrf"
CSRF_FIELD = "csrf"
#: Only our own files: no script, style, font or image from anywhere else.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_files = resources.files("backtriage.interfaces.web")
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_files / "templates")),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_translations(presentation.translations(), newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_env)
router = APIRouter(include_in_schema=False)
_ = presentation.translations().gettext


def mount_page(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_files / "static")), name="static")


def is_page_request(request: Request) -> bool:
    """One of the page's own addresses: an error there is shown as a page, not as JSON."""
    return request.url.path in {route.path for route in router.routes}  # type: ignore[attr-defined]


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    """An error on the page in the page's style, saying what to do; never what was sent."""
    messages = {
        404: _("There is no such page."),
        413: _("What was sent is too long to read. Please shorten it and try again."),
        422: _("What was sent could not be read. Please go back and try again."),
        429: _("Too many requests from here in a short time. Wait a minute and try again."),
    }
    message = messages.get(status, _("Something went wrong on our side. Please try again."))
    page = _page(request, "error.html", status=status, message=message)
    page.headers.update(headers or {})
    return page


def _service(request: Request) -> TriageService:
    return request.app.state.service  # type: ignore[no-any-return]


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    token = request.cookies.get(CSRF_COOKIE) or ""
    fresh = len(token) < 32
    if fresh:
        token = secrets.token_urlsafe(32)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        name,
        {
            "emergency_number": settings.emergency_number,
            "retention_days": settings.retention_days,
            "store_text": settings.store_text,
            "csrf": token,
            **context,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = POLICY
    if fresh:
        _set_cookie(request, response, CSRF_COOKIE, token)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=_over_https(request), path="/")


def _over_https(request: Request) -> bool:
    """HTTPS as the person's browser sees it: the request's own scheme, or what a trusted proxy
    in front says (`Forwarded: proto=https`, or `X-Forwarded-Proto`), so the cookies are Secure."""
    if request.url.scheme == "https":
        return True
    trusted = request.app.state.settings.trusted_proxies
    if not request.client or request.client.host not in trusted:
        return False
    forwarded = request.headers.get("forwarded", "").lower().replace(" ", "")
    said = request.headers.get("x-forwarded-proto", "").lower().strip()
    return "proto=https" in forwarded.split(",", 1)[0].split(";") or said == "https"


class _Forged(Exception):
    """A state-changing request that did not come from this page."""


async def _from_this_page(request: Request) -> None:
    """Every page POST must come from a form of this page: not sent by another site (the
    browser's Sec-Fetch-Site and Origin say where it came from) and carrying the form's token,
    which matches the token cookie. Raises _Forged otherwise."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise _Forged
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise _Forged  # "null" from a sandboxed frame has no host, so it never matches
    sent = (await request.form()).get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise _Forged


async def _guarded(request: Request) -> Response | None:
    """None when the POST may go ahead; otherwise the page that says why it cannot. Rate-limited
    like every page POST."""
    try:
        limit(request, f"page:{request.client.host if request.client else 'local'}")
    except ApiError as exc:
        return error_page(request, exc.status, exc.headers)
    try:
        await _from_this_page(request)
    except _Forged:
        message = _(
            "This request did not come from this page, or the page had expired, so nothing was "
            "changed. Start again from the first page."
        )
        return _page(request, "error.html", status=403, message=message)
    return None


def _to(path: str) -> RedirectResponse:
    # A relative redirect: the Host header is never copied into Location.
    return RedirectResponse(path, status_code=303)


async def _current(request: Request) -> InterviewView | None:
    interview_id = request.cookies.get(COOKIE)
    if not interview_id:
        return None
    try:
        return await off_the_loop(request, _service(request).get_interview, interview_id, WEB_OWNER)
    except NotFoundError:
        return None


@router.get("/", response_class=HTMLResponse)
async def start_page(request: Request) -> HTMLResponse:
    return _page(request, "start.html", resuming=request.cookies.get(COOKIE) is not None)


@router.post("/start")
async def start(
    request: Request,
    text: str = Form(default="", max_length=100_000),
    age: str = Form(default="", max_length=8),
    sex: str = Form(default="", max_length=8),
) -> Response:
    if (refused := await _guarded(request)) is not None:
        return refused
    try:
        case = Case(age=int(age) if age.strip().isdigit() else None, sex=sex or None)  # type: ignore[arg-type]
    except ValueError:
        return _page(request, "start.html", status=422, error=_("Please give an age between 0 and 120."))
    clean = text.replace("\x00", " ").strip() or None
    view = await off_the_loop(request, _service(request).start_interview, case, clean, WEB_OWNER)
    response = _to("/interview")
    _set_cookie(request, response, COOKIE, view.id)
    return response


@router.get("/interview", response_class=HTMLResponse)
async def interview(request: Request) -> Response:
    view = await _current(request)
    if view is None:
        return _to("/")
    if view.done:
        return _to("/result")
    assert view.question is not None
    question = view.question
    return _page(
        request,
        "question.html",
        question=question,
        body_map=BODY_MAP if question.id == "where" else None,
        outlines=OUTLINES,
        asked=view.questions_asked,
    )


@router.post("/interview/answer")
async def answer(request: Request) -> Response:
    if (refused := await _guarded(request)) is not None:
        return refused
    view = await _current(request)
    if view is None:
        return _to("/")
    if view.done or view.question is None:
        return _to("/result")
    form = await request.form()
    try:
        answers = answers_from_form(view.question, form)
    except BacktriageError:
        return _to("/interview?missing=1")
    try:
        await off_the_loop(request, _service(request).answer, view.id, answers, WEB_OWNER)
    except ConflictError:
        pass  # answered in another tab: the page shows where the interview now stands
    return _to("/interview")


@router.post("/interview/back")
async def back(request: Request, to: str = Form(default="", max_length=64)) -> Response:
    if (refused := await _guarded(request)) is not None:
        return refused
    view = await _current(request)
    if view is None:
        return _to("/")
    try:
        await off_the_loop(request, _service(request).back, view.id, WEB_OWNER, to or None)
    except ConflictError:
        pass  # nothing to go back to
    return _to("/interview")


@router.get("/result", response_class=HTMLResponse)
async def result(request: Request) -> Response:
    view = await _current(request)
    if view is None:
        return _to("/")
    if not view.done or view.assessment is None:
        return _to("/interview")
    a = view.assessment
    kb = _service(request).engine.kb
    today = datetime.now(UTC).date()
    emergency = a.urgency == UrgencyLevel.EMERGENCY and request.query_params.get("details") != "1"
    return _page(
        request,
        "emergency.html" if emergency else "result.html",
        a=a,
        urgency=presentation.urgency_view(a),
        causes=presentation.causes(a),
        safety_net=presentation.advice(a, "safety_net"),
        still_to_ask=presentation.still_to_ask(a),
        self_care=presentation.advice(a, "self_care"),
        information=presentation.advice(a, "information"),
        answers=presentation.answers_given(kb, view.answers),
        answered_questions=_answered_questions(kb, view),
        dermatome=presentation.dermatome(a),
        leg=LEG_DERMATOMES,
        suspected=[kb.conditions[c].lay_name for c in a.suspected if c in kb.conditions],
        summary=presentation.summary_text(kb, a, view.answers, today),
        today=today.isoformat(),
    )


@router.get("/summary.txt")
async def summary(request: Request) -> Response:
    view = await _current(request)
    if view is None or view.assessment is None:
        return _to("/")
    kb = _service(request).engine.kb
    text = presentation.summary_text(kb, view.assessment, view.answers, datetime.now(UTC).date())
    return PlainTextResponse(
        text, headers={"Content-Disposition": 'attachment; filename="backtriage-summary.txt"'}
    )


@router.post("/forget")
async def forget(request: Request) -> Response:
    if (refused := await _guarded(request)) is not None:
        return refused
    interview_id = request.cookies.get(COOKIE)
    if interview_id:
        try:
            await off_the_loop(request, _service(request).delete_interview, interview_id, WEB_OWNER)
        except NotFoundError:
            pass
    response = _to("/?forgotten=1")
    response.delete_cookie(COOKIE, path="/")
    return response


def _answered_questions(kb: Any, view: InterviewView) -> list[tuple[str, str]]:
    """(question id, question text) of each question answered, to offer "Change"."""
    texts = {q.id: q.text for q in kb.questions.values()}
    texts.update({f.id: f.question for f in kb.findings.values() if f.question})
    return [(q, texts[q]) for q in view.asked if q in texts]
