"""Dependencies: the service, API-key authentication, per-key rate limiting, and running work
off the event loop within a time budget."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backtriage.interfaces.api.work import Call, NoSlot, WorkSlots
from backtriage.service import TriageService
from backtriage.settings import Settings

__all__ = ["ApiError", "Caller", "RateLimiter", "ServiceDep", "caller", "limit", "off_the_loop"]


T = TypeVar("T")


class ApiError(Exception):
    """An error with an HTTP status and a stable code, rendered as the common error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}


class RateLimiter:
    """Token bucket per caller: `per_minute` requests a minute, bursts up to the same."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float | None:
        """None if allowed, else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


async def get_service(request: Request) -> TriageService:
    return request.app.state.service  # type: ignore[no-any-return]


ServiceDep = Annotated[TriageService, Depends(get_service)]


_bearer = HTTPBearer(auto_error=False, description="An API key from `backtriage apikey create`.")


async def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str | None:
    """The API key id of the caller (None in open local mode); enforces the rate limit. Failed
    authentications count against the client's own limit, so keys cannot be guessed at speed."""
    settings: Settings = request.app.state.settings
    host = request.client.host if request.client else "local"
    key_id: str | None = None
    if settings.require_api_key:
        secret = credentials.credentials.strip() if credentials else ""
        store = request.app.state.service.store
        # In a thread: a database that is slow to answer must not stall the event loop.
        key_id = await anyio.to_thread.run_sync(store.verify_api_key, secret) if secret else None
        if key_id is None:
            limit(request, f"failed-auth:{host}")
            message = (
                "the API key is unknown or revoked"
                if secret
                else "send an API key as 'Authorization: Bearer <key>'"
            )
            raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
    limit(request, key_id or host)
    return key_id


def limit(request: Request, who: str) -> None:
    wait = request.app.state.limiter.check(who)
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            "too many requests; slow down",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


Caller = Annotated[str | None, Depends(caller)]


def _work_slots(request: Request) -> WorkSlots:
    """Few threads at a time, in arrival order: with the interpreter lock only one runs Python
    at a time, and many threads contending for it starve some calls for hundreds of
    milliseconds."""
    state = request.app.state
    if getattr(state, "work_slots", None) is None:
        state.work_slots = WorkSlots(state.settings.work_threads)
    return state.work_slots  # type: ignore[no-any-return]


async def off_the_loop(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run blocking work (reading text, the audit store) in a worker thread, so /healthz and
    every other request keep being answered, within the time budget (waiting for a slot counts
    against it). Past it the caller gets 503 and nothing is stored, so a retry makes no
    duplicate; the thread runs on, holding its slot, but its write is rolled back."""
    budget: float = request.app.state.settings.read_timeout_seconds
    began, started = time.monotonic(), list[float]()

    def timed() -> T:  # called once the call has its work slot
        started.append(time.monotonic())
        return work(*args)

    call = Call(timed, _work_slots(request), budget)
    try:
        with anyio.fail_after(budget):
            await anyio.to_thread.run_sync(call.run, abandon_on_cancel=True)
    except TimeoutError:
        if call.gate.close():
            waited = (started[0] if started else time.monotonic()) - began
            raise _refused(request, budget, waited) from None
        # Its write was already being committed: the caller gets that outcome, not a 503.
        await anyio.to_thread.run_sync(call.finished.wait, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        call.gate.close()  # the client has gone: store nothing it will never hear about
        raise
    try:
        return call.outcome()
    except NoSlot:
        raise _refused(request, budget, budget) from None


#: A request body at least this large can hold a text whose own reading takes seconds (a text of
#: 100,000 characters takes about two seconds on one core; 20,000 well under one).
LONG_BODY_BYTES = 20_000
#: Seconds a client is asked to wait before trying again when the server is busy.
BUSY_RETRY_AFTER = 2


def _refused(request: Request, budget: float, waited: float) -> ApiError:
    """The 503 of a call that ran out of time. It says "send a shorter text" only when the text
    was long and the call spent most of its time reading it; a call that waited for its turn
    (other calls, a locked database) or sent a short text was held up by load: "try again"."""
    length = request.headers.get("content-length", "")
    long_body = length.isdigit() and int(length) >= LONG_BODY_BYTES
    if long_body and waited < budget / 2:
        return ApiError(
            503, "too_slow", f"reading this long text took more than {budget:g} seconds; send a shorter text"
        )
    return ApiError(
        503,
        "busy",
        "the server is busy; try again in a few seconds",
        headers={"Retry-After": str(BUSY_RETRY_AFTER)},
    )
