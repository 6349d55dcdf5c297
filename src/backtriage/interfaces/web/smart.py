"""SMART App Launch 2.x (EHR launch) of the patient's page: /smart/launch, /smart/callback and
/smart/write-back, and the patient-context check every page request goes through.

State lives on the server (`AuditStore.put_smart`): a `launch` row under `state` from the
redirect to the callback, then a `session` row (the token, the patient, the interview started
for them) under a random id kept in the `bt_smart` cookie until the token expires. The token is
never in a cookie, a URL, a page or a log. The EHR's launch does not keep the patient in sync
with the EHR (smart-app-launch #17), so every page request in a SMART session checks that the
session still stands and that the interview shown is the one started for its patient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backtriage.domain.case import Case
from backtriage.errors import NotFoundError
from backtriage.interfaces.api.deps import ApiError, limit, off_the_loop
from backtriage.interfaces.presentation import catalogue
from backtriage.interfaces.web import (
    COOKIE,
    CSRF_COOKIE,
    _guarded,
    _over_https,
    _page,
    _service,
    error_page,
)
from backtriage.interop import smart
from backtriage.service import WEB_OWNER, InterviewView
from backtriage.storage.store import AuditStore

__all__ = ["SESSION_COOKIE", "ContextError", "patient_context", "refused", "router"]

router = APIRouter(prefix="/smart", include_in_schema=False)
_ = catalogue.gettext
_log = logging.getLogger("backtriage.smart")

#: The SMART session's id (the token stays on the server).
SESSION_COOKIE = "bt_smart"
#: Ties a callback to the browser that began the launch, so a sign-in link sent to someone
#: else cannot put them in the sender's session.
BROWSER_COOKIE = "bt_smart_browser"
#: How long a launch may take from the redirect to the callback (the EHR's sign-in).
LAUNCH_MINUTES = 10
_MAX_PARAM = 2048


def _store(request: Request) -> AuditStore:
    return _service(request).store


def _http() -> httpx.AsyncClient:
    """A client that never follows a redirect: a token is sent only to the URL it is meant for."""
    return httpx.AsyncClient(timeout=smart.TIMEOUT, follow_redirects=False)


def _framed(request: Request) -> bool:
    public = request.app.state.settings.public_url or ""
    return _over_https(request) or public.startswith("https://")


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    """A cookie the EHR's frame can keep: inside an iframe on the EHR's site only `SameSite=None;
    Secure` cookies are sent, and `Partitioned` (CHIPS) keeps them, under the EHR's site, where
    third-party cookies are blocked. Over plain http (local trials) Secure is impossible, so Lax:
    a launch in a new window works there, one in a frame does not."""
    framed = _framed(request)
    samesite: Literal["none", "lax"] = "none" if framed else "lax"
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, secure=framed, samesite=samesite
    )
    if framed:  # Starlette sets Partitioned only on Python 3.14 and later
        header, line = response.raw_headers[-1]
        response.raw_headers[-1] = (header, line + b"; Partitioned")


def _drop_cookie(request: Request, response: Response, name: str) -> None:
    """Removed with the attributes it was set with, or a framed browser keeps it."""
    _set_cookie(request, response, name, "", max_age=0)


def _message(request: Request, status: int, message: str) -> HTMLResponse:
    return _page(request, "error.html", status=status, message=message)


def _not_from_record(request: Request) -> HTMLResponse:
    return _message(
        request, 400, _("This page must be opened from a patient's record. Open it again from there.")
    )


def _ehr_failed(request: Request) -> HTMLResponse:
    return _message(
        request,
        502,
        _(
            "The record system could not be reached, or did not answer as expected. Open the page "
            "again from the patient's record."
        ),
    )


def _issuer(request: Request, iss: str) -> str | None:
    """`iss` if it is one of the configured FHIR servers (a trailing slash aside), else None."""
    trusted = {i.rstrip("/") for i in request.app.state.settings.smart_issuers}
    return iss if iss.rstrip("/") in trusted else None


def _redirect_uri(request: Request) -> str:
    """The callback as the EHR knows it: from the public URL when set (behind a proxy the
    request's own address is not the one registered with the EHR)."""
    base = request.app.state.settings.public_url or str(request.base_url).rstrip("/")
    return f"{base}/smart/callback"


# ---- launch ---------------------------------------------------------------------------------


@router.get("/launch", response_class=HTMLResponse)
async def begin(request: Request, iss: str = "", launch: str = "") -> Response:
    """The EHR opens the page here; the browser is sent on to the EHR's sign-in."""
    try:
        limit(request, f"page:{request.client.host if request.client else 'local'}")
    except ApiError as exc:
        return error_page(request, exc.status, exc.headers, exc.code)
    if not iss or not launch or len(iss) > _MAX_PARAM or len(launch) > _MAX_PARAM:
        _log.warning("SMART launch refused: iss or launch missing or too long")
        return _not_from_record(request)
    issuer = _issuer(request, iss)
    if issuer is None:
        _log.warning("SMART launch refused: issuer %r is not in BACKTRIAGE_SMART_ISSUERS", iss[:200])
        return _message(
            request,
            400,
            _(
                "This page was opened by a record system it is not set up to work with, so it cannot "
                "go on. Ask whoever looks after the record system."
            ),
        )
    try:
        async with _http() as client:
            config = await smart.discover(issuer, client)
    except smart.SmartError as exc:
        _log.warning("SMART launch refused: %s", exc)
        return _ehr_failed(request)
    state, pkce, redirect_uri = smart.new_state(), smart.Pkce.new(), _redirect_uri(request)
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if len(browser) < 32:
        browser = secrets.token_urlsafe(32)
    kept = {
        "iss": issuer,
        "verifier": pkce.verifier,
        "redirect_uri": redirect_uri,
        "config": config.to_dict(),
        "browser": browser,
    }
    until = datetime.now(UTC) + timedelta(minutes=LAUNCH_MINUTES)
    await off_the_loop(request, _store(request).put_smart, state, "launch", kept, until)
    target = smart.authorize_url(
        config,
        client_id=request.app.state.settings.smart_client_id,
        redirect_uri=redirect_uri,
        launch=launch,
        state=state,
        aud=issuer,
        challenge=pkce.challenge,
    )
    response = RedirectResponse(target, status_code=302)
    _set_cookie(request, response, BROWSER_COOKIE, browser, LAUNCH_MINUTES * 60)
    return response


# ---- callback -------------------------------------------------------------------------------


@router.get("/callback", response_class=HTMLResponse)
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    """The EHR sends the browser back here after sign-in: trade the code for a token, start an
    interview for the patient in context, and show it."""
    try:
        limit(request, f"page:{request.client.host if request.client else 'local'}")
    except ApiError as exc:
        return error_page(request, exc.status, exc.headers, exc.code)
    if not state or len(state) > 200:
        return _not_from_record(request)
    kept = await off_the_loop(request, _store(request).take_smart, state, "launch")  # once only
    if kept is None:
        _log.warning("SMART callback refused: unknown, used or expired state")
        return _message(
            request,
            400,
            _(
                "This sign-in has already been used or has expired. Open the page again from the "
                "patient's record."
            ),
        )
    if error or not code or len(code) > _MAX_PARAM:
        _log.warning("SMART callback refused: the EHR sent no code")
        return _message(
            request,
            403,
            _("The record system did not allow this page to open. Open it again from the patient's record."),
        )
    if not hmac.compare_digest(request.cookies.get(BROWSER_COOKIE, ""), kept["browser"]):
        _log.warning("SMART callback refused: not the browser that began the launch")
        return _message(
            request,
            400,
            _(
                "This browser did not keep the page's cookie while signing in. If the record shows this "
                "page inside its own window, try opening it in a new window."
            ),
        )
    config = smart.SmartConfiguration.from_dict(kept["config"])
    settings = request.app.state.settings
    now = datetime.now(UTC)
    try:
        async with _http() as client:
            token = await smart.exchange_code(
                config,
                code=code,
                redirect_uri=kept["redirect_uri"],
                verifier=kept["verifier"],
                client_id=settings.smart_client_id,
                client=client,
            )
            grants = smart.Grants.parse(token.scope)
            person = None
            if grants.may_read("Patient"):
                person = await smart.read_patient(kept["iss"], token.access_token, token.patient, client, now)
    except smart.SmartError as exc:
        _log.warning("SMART callback refused: %s", exc)
        return _ehr_failed(request)
    case = Case(age=person.age if person else None, sex=person.sex if person else None)  # type: ignore[arg-type]
    view = await off_the_loop(request, _service(request).start_interview, case, None, WEB_OWNER)
    session_id = secrets.token_urlsafe(32)
    session = {
        "iss": kept["iss"],
        "fhir_base": kept["iss"],
        "access_token": token.access_token,
        "expires_at": (now + timedelta(seconds=token.expires_in)).isoformat(),
        "scope": token.scope,
        "patient": token.patient,
        "encounter": token.encounter,
        "need_patient_banner": token.need_patient_banner,
        "app_context": token.app_context,  # a CDS card's id when launched from one: opaque
        "interview": view.id,
        "person": {"name": person.name, "born": person.birth_date} if person else None,
        "saved": {},
    }
    until = now + timedelta(seconds=token.expires_in)
    await off_the_loop(request, _store(request).put_smart, session_id, "session", session, until)
    response = RedirectResponse("/interview", status_code=303)  # relative: no Host header copied
    _set_cookie(request, response, SESSION_COOKIE, session_id, token.expires_in)
    _set_cookie(request, response, COOKIE, view.id, token.expires_in)
    # A fresh form token: a page still open from an earlier launch (another patient, perhaps)
    # can no longer send its forms.
    _set_cookie(request, response, CSRF_COOKIE, secrets.token_urlsafe(32), None)
    _drop_cookie(request, response, BROWSER_COOKIE)
    return response


# ---- the patient-context check --------------------------------------------------------------

Problem = Literal["ended", "other_patient", "start"]


class ContextError(Exception):
    """A page request in a SMART session that must not go on (the handler words it)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem: Problem = problem


async def _session(request: Request) -> dict[str, Any] | None:
    """The SMART session of this browser if there is one and it still stands; raises
    ContextError if its cookie is there but the session has ended."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    session = await off_the_loop(request, _store(request).get_smart, session_id[:100], "session")
    if session is None:
        raise ContextError("ended")
    return session


def _same_interview(request: Request, session: dict[str, Any]) -> None:
    shown = request.cookies.get(COOKIE)
    if shown is not None and not hmac.compare_digest(shown, session["interview"]):
        raise ContextError("other_patient")


async def patient_context(request: Request) -> None:
    """A dependency of every page route: in a SMART session, the session must still stand and
    the interview shown must be the one started for its patient. Outside one, nothing."""
    session = await _session(request)
    if session is None:
        return
    if request.method == "POST" and request.url.path == "/start":
        raise ContextError("start")
    _same_interview(request, session)


async def refused(request: Request, exc: Exception) -> Response:
    """The page for a ContextError; the cookies that led to it are dropped."""
    assert isinstance(exc, ContextError)
    messages = {
        "ended": _(
            "The link to the patient's record has ended. Open the page again from the record to go on."
        ),
        "other_patient": _(
            "This interview does not belong to the patient whose record opened the page, so it is not "
            "shown. Open the page again from the record."
        ),
        "start": _(
            "This page was opened from a patient's record. To start a new interview for the patient, "
            "open it again from the record."
        ),
    }
    _log.warning("SMART page request refused: %s", exc.problem)
    page = _message(request, 403, messages[exc.problem])
    if exc.problem != "start":
        _drop_cookie(request, page, COOKIE)
    if exc.problem == "ended":
        _drop_cookie(request, page, SESSION_COOKIE)
    return page


# ---- write-back -----------------------------------------------------------------------------


def _answers_digest(view: InterviewView) -> str:
    """Which answers were saved: the same answers are not written twice, changed ones may be."""
    answers = json.dumps(view.answers, sort_keys=True, default=str)
    return hashlib.sha256(answers.encode()).hexdigest()[:32]


@router.post("/write-back", response_class=HTMLResponse)
async def write_back(request: Request) -> Response:
    """Write the finished interview to the patient's record: what the granted scopes allow."""
    if (refusal := await _guarded(request)) is not None:
        return refusal
    try:
        session = await _session(request)
        if session is None:
            return _not_from_record(request)
        _same_interview(request, session)
    except ContextError as exc:
        return await refused(request, exc)
    service = _service(request)
    try:
        view = await off_the_loop(request, service.get_interview, session["interview"], WEB_OWNER)
    except NotFoundError:
        return RedirectResponse("/", status_code=303)
    if not view.done or view.assessment is None:
        return RedirectResponse("/interview", status_code=303)
    digest = _answers_digest(view)
    saved = dict(session.get("saved") or {})
    again = digest in saved
    if again:
        outcomes = [smart.Outcome.from_dict(o) for o in saved[digest]]
    else:
        try:
            async with _http() as client:
                outcomes = await smart.write_back(
                    client,
                    session["fhir_base"],
                    session["access_token"],
                    smart.Grants.parse(session["scope"]),
                    service.engine.kb,
                    view,
                    session["patient"],
                    datetime.now(UTC),
                )
        except smart.SmartError as exc:
            _log.warning("SMART write-back refused: %s", exc)
            return _ehr_failed(request)
        saved[digest] = [o.to_dict() for o in outcomes]
        until = datetime.fromisoformat(session["expires_at"])
        updated = {**session, "saved": saved}
        session_id = request.cookies[SESSION_COOKIE]
        await off_the_loop(request, _store(request).put_smart, session_id[:100], "session", updated, until)
    written = [o for o in outcomes if o.status == "written"]
    _log.info("SMART write-back: %d written, %d not", len(written), len(outcomes) - len(written))
    return _page(
        request,
        "smart_saved.html",
        again=again,
        rows=_rows(outcomes),
        all_saved=len(written) == len(outcomes),
        person=session.get("person"),
    )


def _kinds() -> dict[str, str]:
    """What each kind of resource holds, in words for the person saving it."""
    return {
        "QuestionnaireResponse": _("The questions and answers"),
        "RiskAssessment": _("The likely causes"),
        "Observation": _("Findings, warning signs and urgency"),
        "ClinicalImpression": _("The summary"),
        "Device": _("The version of backtriage used"),
        "Provenance": _("Where the results came from"),
    }


def _reason(outcome: smart.Outcome) -> str:
    if outcome.reason == "no_scope":
        return _("The record did not allow the page to add this.")
    if outcome.reason == "needs_unwritten":
        return _("It refers to something that was not saved.")
    if outcome.reason == "refused":
        return _("The record refused it (error %(status)s).") % {"status": outcome.http_status}
    return _("The record did not answer.")


def _rows(outcomes: list[smart.Outcome]) -> list[dict[str, Any]]:
    """One row per kind of resource: how many were saved, and why any were not."""
    kinds = _kinds()
    rows: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        row = rows.setdefault(
            o.resource_type,
            {
                "kind": o.resource_type,
                "what": kinds.get(o.resource_type, o.resource_type),
                "saved": 0,
                "unsaved": 0,
            },
        )
        if o.status == "written":
            row["saved"] += 1
            continue
        row["unsaved"] += 1
        row.setdefault("why", [])
        if (reason := _reason(o)) not in row["why"]:
            row["why"].append(reason)
    return list(rows.values())
