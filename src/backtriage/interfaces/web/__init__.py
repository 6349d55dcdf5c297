"""The patient's page: an interview in the browser, served by `backtriage serve` at `/`.

Server-rendered HTML (Jinja2) that works without JavaScript; `static/page.js` only adds the body
map's clicks, printing and copying. The interview is kept in a cookie (HttpOnly, SameSite=Strict),
so nothing about the person is ever in a URL. Every page goes through the same service as the
API, and all wording comes from `interfaces.presentation`.

Each page speaks the language its reader chose with the page's switch (a session cookie), else the
first their browser asks for that backtriage speaks (`Accept-Language`), else the service's
(BACKTRIAGE_LANG); the emergency number follows the locale where the service maps locales to
numbers (`Settings.emergency_number_for`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette import types as asgi

from backtriage.domain.assessment import Assessment, Scope
from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import BacktriageError, ConflictError, NotFoundError
from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import ApiError, limit, off_the_loop
from backtriage.interfaces.presentation import catalogue, languages, localise
from backtriage.interfaces.presentation.languages import Locale
from backtriage.interfaces.web.answers import Given, answers_from_form, given, options_shown
from backtriage.interfaces.web.bodymap import BODY_MAP, LEG_DERMATOMES, OUTLINES, VIEWS, Region, label_layout
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.service import WEB_OWNER, InterviewView, TriageService

__all__ = ["error_page", "is_page_request", "mount_page", "page_locale"]

COOKIE = "bt_interview"
#: The language chosen with the page's switch (for the browser session only).
LANG_COOKIE = "bt_lang"
#: The page's anti-forgery token: a cookie another site's form can never send (SameSite=Strict),
#: repeated in every form, where another site cannot read it.
CSRF_COOKIE = "bt_csrf"
CSRF_FIELD = "csrf"
#: Only our own files: no script, style, font or image from anywhere else.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


def _policy(frame_ancestors: tuple[str, ...]) -> str:
    """POLICY, framed only by the EHRs configured (BACKTRIAGE_FRAME_ANCESTORS) when there are
    any; a value that is not a plain origin is left out, so it cannot add a directive."""
    origins = [o.rstrip("/") for o in frame_ancestors if _ORIGIN.fullmatch(o.rstrip("/"))]
    return (
        POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {' '.join(origins)}")
        if origins
        else POLICY
    )


_files = resources.files("backtriage.interfaces.web")
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_files / "templates")),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)
# The catalogue in force is looked up on every call, so a page speaks whatever language is chosen.
_env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=presentation.gettext, ngettext=catalogue.ngettext, newstyle=True
)
templates = Jinja2Templates(env=_env)
router = APIRouter(include_in_schema=False)
_ = catalogue.gettext


def mount_page(app: FastAPI) -> None:
    from backtriage.interfaces.web import smart

    # In a SMART session every page request first checks the patient context (web/smart.py).
    app.include_router(router, dependencies=[Depends(smart.patient_context)])
    app.add_exception_handler(smart.ContextError, smart.refused)
    app.include_router(smart.router)
    app.mount("/static", StaticFiles(directory=str(_files / "static")), name="static")
    app.add_middleware(_Speaking)


class _Speaking:
    """Every page request (its error pages too) is answered in the reader's language."""

    def __init__(self, app: asgi.ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] != "http" or not is_page_request(Request(scope)):
            await self.app(scope, receive, send)
            return
        with languages.speaking(page_locale(Request(scope)).language):
            await self.app(scope, receive, send)


def page_locale(request: Request) -> Locale:
    """The reader's locale: the language chosen with the switch, else the first of the browser's
    that backtriage speaks, else the service's; the region from the browser (or the service's
    setting) when it names one for that language."""
    state = request.scope.setdefault("state", {})
    if isinstance(known := state.get("locale"), Locale):
        return known
    header = request.headers.get("accept-language")
    settings = request.app.state.settings
    try:
        default = languages.parse_locale(settings.language)
    except BacktriageError:
        default = Locale()
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen not in languages.languages():
        chosen = (languages.negotiate(header) or default).language
    asked = languages.negotiate(header, only=chosen)
    region = asked.region if asked else default.region if default.language == chosen else None
    locale = state["locale"] = Locale(chosen, region)
    return locale


def _number(request: Request) -> str:
    """The emergency number this reader is told to call."""
    locale = page_locale(request)
    number: str = request.app.state.settings.emergency_number_for(locale.language, locale.region)
    return number


def _kb(request: Request) -> KnowledgeBase:
    """The knowledge base in the reader's language (the same ids, numbers and rules)."""
    return languages.knowledge(_service(request).engine.kb, page_locale(request).language)


def _in_words(request: Request, a: Assessment) -> Assessment:
    """An assessment in the reader's words, with their emergency number."""
    locale, number = page_locale(request), _number(request)
    if locale.language == languages.DEFAULT_LANGUAGE and number == a.emergency_number:
        return a
    return localise.assessment(_kb(request), a, number)


#: Where the language switch may send the reader back to.
_BACK = frozenset({"/", "/interview", "/result", "/result?details=1"})


def _here(request: Request) -> str:
    here = request.url.path + ("?details=1" if request.query_params.get("details") == "1" else "")
    return here if here in _BACK else "/"


def is_page_request(request: Request) -> bool:
    """One of the page's own addresses (its SMART launch too): an error there is shown as a page,
    not as JSON."""
    path = request.url.path
    return path in {route.path for route in router.routes} or path.startswith("/smart/")  # type: ignore[attr-defined]


def error_page(
    request: Request, status: int, headers: dict[str, str] | None = None, code: str | None = None
) -> HTMLResponse:
    """An error on the page in the page's style, saying what to do; never what was sent. `code` is
    the API's error code where it tells two errors of one status apart (busy or too slow)."""
    messages: dict[int | str, str] = {
        404: _("There is no such page."),
        413: _("What was sent is too long to read. Please shorten it and try again."),
        422: _("What was sent could not be read. Please go back and try again."),
        429: _("Too many requests from here in a short time. Wait a minute and try again."),
        503: _("The service is busy just now. Please wait a few seconds and try again."),
        "too_slow": _("Reading this text took too long. Please shorten it and try again."),
    }
    message = messages.get(code or status) or messages.get(
        status, _("Something went wrong on our side. Please try again.")
    )
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
    locale = page_locale(request)
    words = languages.translation(locale.language) if locale.language != languages.DEFAULT_LANGUAGE else None
    with languages.speaking(locale.language):
        response: HTMLResponse = templates.TemplateResponse(
            request,
            name,
            {
                "emergency_number": _number(request),
                "retention_days": settings.retention_days,
                "store_text": settings.store_text,
                "csrf": token,
                "lang": locale.language,
                "languages": languages.languages(),
                "here": _here(request),
                "kb_words": words,
                **context,
            },
            status_code=status,
        )
    response.headers["Content-Security-Policy"] = _policy(settings.frame_ancestors)
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
        return error_page(request, exc.status, exc.headers, exc.code)
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
    kb = _kb(request)
    question = localise.question(kb, view.question)
    options = options_shown(kb, question, view.answers)
    return _page(
        request,
        "question.html",
        question=question,
        why=presentation.words.why_asked(kb, question),
        options=options,
        body_map=_body_map(options) if question.id == "where" else None,
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
    kb = _kb(request)
    a = _in_words(request, view.assessment)
    handover = _handover(request, view)
    emergency = a.urgency == UrgencyLevel.EMERGENCY and request.query_params.get("details") != "1"
    urgency = presentation.urgency_view(a)
    outside = _outside_back_advice(kb, a)
    number = _number(request)
    return _page(
        request,
        "emergency.html" if emergency else "result.html",
        a=a,
        urgency=urgency,
        action=_action(a, urgency.action, number),
        call=_tel(number),
        outside_back=outside,
        emergency_steps=_emergency_steps(a, outside, number),
        causes=presentation.causes(a),
        danger=_danger(a),
        safety_net=presentation.advice(a, "safety_net"),
        still_to_ask=presentation.still_to_ask(a),
        self_care=presentation.advice(a, "self_care"),
        information=presentation.advice(a, "information"),
        answers=presentation.answers_given(kb, view.answers),
        answered_questions=_answered_questions(kb, view),
        dermatome=presentation.dermatome(a),
        leg=LEG_DERMATOMES,
        suspected=[kb.conditions[c].lay_name for c in a.suspected if c in kb.conditions],
        scope=presentation.words.scope(kb, a),
        why=presentation.result_view(kb, a).why,
        why_clinical=[presentation.words.reason_for_clinician(kb, a, r) for r in a.urgency_reasons],
        chance=presentation.words.chance,
        handover=handover,
        summary=presentation.handover_text(handover),
    )


def _handover(request: Request, view: InterviewView) -> presentation.Handover:
    """The summary for a clinician, in the reader's language: the person's words only when they
    were kept (with consent)."""
    assert view.assessment is not None
    person = presentation.Person(age=view.age, sex=view.sex, words=view.text)
    when = (view.started_at or datetime.now(UTC)).astimezone()
    a = _in_words(request, view.assessment)
    return presentation.handover(_kb(request), a, view.answers, when, person)


@router.get("/summary.txt")
async def summary(request: Request) -> Response:
    view = await _current(request)
    if view is None or view.assessment is None:
        return _to("/")
    text = presentation.handover_text(_handover(request, view))
    return PlainTextResponse(
        text, headers={"Content-Disposition": 'attachment; filename="backtriage-summary.txt"'}
    )


@router.get("/summary.pdf")
async def summary_pdf(request: Request) -> Response:
    """The same summary as a PDF made on the server: saved or printed without the print dialog."""
    view = await _current(request)
    if view is None or view.assessment is None:
        return _to("/")
    pdf = await off_the_loop(request, presentation.handover_pdf, _handover(request, view))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="backtriage-summary.pdf"'},
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


@router.post("/language")
async def choose_language(
    request: Request,
    lang: str = Form(default="", max_length=16),
    back: str = Form(default="/", max_length=64),
) -> Response:
    """The language switch: the page again, in the language chosen, for the rest of the visit."""
    if (refused := await _guarded(request)) is not None:
        return refused
    response = _to(back if back in _BACK else "/")
    if lang in languages.languages():
        _set_cookie(request, response, LANG_COOKIE, lang)
    return response


def _answered_questions(kb: KnowledgeBase, view: InterviewView) -> list[tuple[str, str, str]]:
    """(question id, question text, the answer given) of each question answered, to offer "Change"."""
    texts = {q.id: q.text for q in kb.questions.values()}
    texts.update({f.id: f.question for f in kb.findings.values() if f.question})
    rows = []
    for q in view.asked:
        answer = given(kb, q, view.answers)
        if q in texts and answer is not None:
            rows.append((q, texts[q], _given_words(answer)))
    return rows


def _given_words(answer: Given) -> str:
    if answer.kind == "options":
        return "; ".join(answer.options)
    return {
        "yes": _("yes"),
        "no": _("no"),
        "unsure": _("not sure"),
        "none": _("none of these"),
    }[answer.kind]


# ---- colours by meaning ---------------------------------------------------------------------


@dataclass(frozen=True)
class Danger:
    """How dangerous a cause is (its own urgency, not how likely it is), in words and an icon as
    well as a colour (`style`): a dangerous cause is never drawn in the colour of a harmless one."""

    style: str
    icon: str
    words: str


def _danger(a: Assessment) -> dict[str, Danger]:
    """Each listed cause's danger, by condition id."""
    words = {
        UrgencyLevel.EMERGENCY: ("!", _("Dangerous: needs emergency care")),
        UrgencyLevel.URGENT: ("!", _("Serious: needs a doctor the same day")),
        UrgencyLevel.ROUTINE: ("\u2139", _("Needs a check by a GP or physiotherapist")),
        UrgencyLevel.SELF_CARE: ("\u2713", _("Usually harmless")),
    }
    return {
        c.id: Danger(c.base_urgency.value.replace("_", "-"), *words[c.base_urgency]) for c in a.conditions
    }


# ---- the emergency screen -------------------------------------------------------------------


def _tel(number: str) -> str:
    """The emergency number as a `tel:` link takes it: digits, and a leading +."""
    digits = re.sub(r"[^0-9+]", "", number)
    return digits[:1] + digits[1:].replace("+", "")


def _outside_back_advice(kb: KnowledgeBase, a: Assessment) -> list[str]:
    """What to do for each suspected cause outside the back (a stroke, a heart attack, ...), from
    the advice the knowledge base gives that cause: the back's advice does not fit them."""
    if a.scope == Scope.BACK:
        return []
    outside = [c for c in a.outside_back if c in kb.conditions]
    wanted = list(dict.fromkeys(aid for c in outside for aid in kb.conditions[c].advice))
    texts = {item.id: item.text for item in a.advice}
    return [texts[aid] for aid in wanted if aid in texts]


def _emergency_steps(a: Assessment, outside: list[str], emergency_number: str) -> list[str]:
    """What to do now, on the emergency screen. For the back: call, or go to an emergency
    department; for an emergency elsewhere in the body (only), that emergency's own advice."""
    number = {"number": emergency_number}
    if a.scope == Scope.NOT_BACK and outside:
        return [*outside, _("Do not drive yourself, and do not wait to see if it settles.")]
    return [
        _("Call %(number)s, or go to the nearest emergency department if you can get there safely.") % number,
        _("Do not drive yourself. Ask someone to take you, or wait for the ambulance."),
        _("Do not wait to see if it settles."),
    ]


def _action(a: Assessment, action: str, emergency_number: str) -> str:
    """What to do now, under the outcome. The knowledge base's action for an emergency is the
    back's (call, or go to an emergency department); an emergency only outside the back gets
    words that send no one to hospital on their own."""
    if a.urgency == UrgencyLevel.EMERGENCY and a.scope == Scope.NOT_BACK:
        return _("Call %(number)s now. Do not drive yourself, and do not wait to see if it settles.") % {
            "number": emergency_number
        }
    return action


# ---- the body map ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MapRegion:
    """A region of the body map as drawn: its box, its label's lines, the option's full text
    (its accessible name), and whether its answer is already known."""

    region: Region
    lines: list[str]
    name: str
    known: bool
    holds: bool
    upright: bool = False  # the label runs up the region


@dataclass(frozen=True)
class MapView:
    view: str
    title: str
    height: int
    outlines: tuple[str, ...]
    regions: list[MapRegion]


def _map_labels() -> dict[str, str]:
    """The short label drawn in each region: words of the option's own text, so that what is
    seen is part of what a screen reader says (WCAG 2.5.3)."""
    return {
        "shoulder_blade": _("Shoulder blade"),
        "mid_back": _("Middle of the back"),
        "lower_back": _("Lower back"),
        "buttock": _("Buttock"),
        "arm": _("Arm or hand"),
        "leg": _("Down a leg"),
        "both_legs": _("Both legs"),
        "chest_band": _("Band around the chest or tummy"),
        "outer_thigh": _("Outer front of the thigh"),
    }


def _body_map(options: list[Any]) -> list[MapView]:
    """The body map's pictures, with a region for each option the list below it shows (and only
    those): the map and the list always offer the same choices."""
    shown = {o.id: o for o in options}
    labels = _map_labels()
    # Not "Back": that word is the page's back button, which another language says differently.
    titles = {"back": _("Back of the body"), "front": _("Front of the body")}
    views = []
    for view, height in VIEWS:
        regions = [
            _map_region(r, labels.get(r.option, shown[r.option].text), shown[r.option])
            for r in BODY_MAP
            if r.view == view and r.option in shown
        ]
        if regions:
            views.append(MapView(view, titles[view], height, OUTLINES[view], regions))
    return views


def _map_region(region: Region, label: str, option: Any) -> MapRegion:
    lines, upright = label_layout(region, label)
    return MapRegion(region, lines, option.text, option.known, option.holds, upright)
