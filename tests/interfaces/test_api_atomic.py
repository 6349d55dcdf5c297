"""A call either fully succeeds or leaves no trace, and the work limit holds when callers give up.

A 503 (`busy`) tells the client to retry, so it must mean that nothing was stored; and a call
whose caller stopped waiting keeps its work slot until its thread really ends. Every wait below is
on an event or a condition with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backtriage.interfaces.api import create_app
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore
from backtriage.storage.models import AssessmentRecord, InterviewEvent, InterviewRecord
from tests.conftest import SCREEN_NO

WAIT = 30.0  # the longest any wait may take before the test fails; never slept through
ANSWERS = {"answers": {"fever": True}}


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    s = AuditStore(f"sqlite:///{tmp_path / 'atomic.db'}")
    s.upgrade()
    return s


def _client(store: AuditStore, service: TriageService, budget: float, threads: int = 2) -> TestClient:
    settings = Settings(
        database_url=store.url, require_api_key=False, read_timeout_seconds=budget, work_threads=threads
    )
    return TestClient(create_app(settings, service))


def _stored(store: AuditStore) -> tuple[int, int, int]:
    """How many assessments, interviews and interview events the store holds."""
    with store.reading() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(table)) or 0
            for table in (AssessmentRecord, InterviewRecord, InterviewEvent)
        )


def _signal_end(service: TriageService, method: str) -> threading.Event:
    """An event set when the service's `method` ends, however it ends (in its worker thread)."""
    ended = threading.Event()
    original = getattr(service, method)

    def wrapped(*args: object) -> object:
        try:
            return original(*args)
        finally:
            ended.set()

    setattr(service, method, wrapped)
    return ended


@contextmanager
def _database_locked(store: AuditStore) -> Iterator[None]:
    """Another writer holds SQLite's write lock until the block ends."""
    held = sqlite3.connect(store.url.split("///", 1)[1], isolation_level=None)
    held.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        held.execute("ROLLBACK")
        held.close()


def _assess(c: TestClient, _: str) -> httpx.Response:
    response: httpx.Response = c.post("/v1/assess", json=ANSWERS)
    return response


def _start(c: TestClient, _: str) -> httpx.Response:
    response: httpx.Response = c.post("/v1/interviews", json={"age": 40})
    return response


def _answer(c: TestClient, interview_id: str) -> httpx.Response:
    response: httpx.Response = c.post(f"/v1/interviews/{interview_id}/answers", json={"answers": SCREEN_NO})
    return response


@pytest.mark.parametrize(
    ("method", "call", "one_write"),
    [
        ("assess", _assess, (1, 0, 0)),
        ("start_interview", _start, (0, 1, 1)),
        ("answer", _answer, (0, 0, 1)),
    ],
)
def test_a_call_refused_as_too_slow_stores_nothing_so_its_retry_stores_once(
    store: AuditStore,
    method: str,
    call: Callable[[TestClient, str], httpx.Response],
    one_write: tuple[int, int, int],
) -> None:
    service = TriageService(store)
    # The budget only has to pass while the database is locked; 1.5 s leaves the retry room on
    # a loaded two-core machine (0.5 s once ran out there).
    with _client(store, service, budget=1.5) as c:
        interview_id = c.post("/v1/interviews", json={}).json()["id"]
        before = _stored(store)
        ended = _signal_end(service, method)
        with _database_locked(store):
            refused = call(c, interview_id)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
        assert refused.json()["error"]["code"] == "busy"  # a short call held up: not "send less"
        assert ended.wait(WAIT)  # the lock has cleared and the abandoned call has run to its end
        assert _stored(store) == before
        retried = call(c, interview_id)  # as the 503 told the client to
        assert retried.status_code in (200, 201), retried.text
    assert _stored(store) == tuple(b + w for b, w in zip(before, one_write, strict=True))


def test_callers_that_give_up_keep_their_work_slot_until_the_work_ends(store: AuditStore) -> None:
    limit = 2
    service = TriageService(store)
    original = service.assess
    changed = threading.Condition()
    counts = {"running": 0, "most": 0, "started": 0}
    release = threading.Event()  # lets the running calls go on to their end

    def assess(*args: object) -> object:
        with changed:
            counts["running"] += 1
            counts["started"] += 1
            counts["most"] = max(counts["most"], counts["running"])
            changed.notify_all()
        try:
            release.wait(WAIT)
            return original(*args)  # type: ignore[arg-type]
        finally:
            with changed:
                counts["running"] -= 1
                changed.notify_all()

    service.assess = assess  # type: ignore[assignment,method-assign]
    with _client(store, service, budget=0.5, threads=limit) as c, ThreadPoolExecutor(limit) as pool:
        try:
            first = [pool.submit(c.post, "/v1/assess", json=ANSWERS) for _ in range(limit)]
            with changed:
                assert changed.wait_for(lambda: counts["running"] == limit, WAIT)
            assert [f.result(WAIT).status_code for f in first] == [503] * limit  # their work goes on
            later = [pool.submit(c.post, "/v1/assess", json=ANSWERS) for _ in range(limit)]
            refused = [f.result(WAIT) for f in later]  # no slot came free
            assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [(503, "busy")] * limit
            assert counts["started"] == counts["most"] == limit
        finally:
            release.set()
        with changed:
            assert changed.wait_for(lambda: counts["running"] == 0, WAIT)
        assert c.post("/v1/assess", json=ANSWERS).status_code == 200  # the slots are free again
    assert _stored(store) == (1, 0, 0)  # only the call whose caller got its answer


def test_a_write_already_committing_when_time_runs_out_is_answered_not_refused(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtriage.storage.gate import CommitGate

    gave_up = threading.Event()
    enter, close = CommitGate.enter, CommitGate.close

    def entering(gate: CommitGate) -> bool:
        allowed = enter(gate)
        gave_up.wait(WAIT)  # hold the commit until the caller's time has run out
        return allowed

    def closing(gate: CommitGate) -> bool:
        gave_up.set()
        return close(gate)

    monkeypatch.setattr(CommitGate, "enter", entering)
    monkeypatch.setattr(CommitGate, "close", closing)
    with _client(store, TriageService(store), budget=0.3) as c:
        r = c.post("/v1/assess", json=ANSWERS)
    assert gave_up.is_set() and r.status_code == 200
    assert _stored(store) == (1, 0, 0)


def test_work_slots_are_given_in_arrival_order() -> None:
    from backtriage.interfaces.api.work import WorkSlots

    slots = WorkSlots(1)
    assert slots.acquire(0)
    order: list[str] = []

    def take(name: str) -> None:
        assert slots.acquire(WAIT)
        order.append(name)
        slots.release()

    waiters = []
    for name in "abc":
        waiters.append(threading.Thread(target=take, args=(name,)))
        waiters[-1].start()
        _until(lambda: slots.waiting == len(waiters))
    slots.release()
    for waiter in waiters:
        waiter.join(WAIT)
    assert order == ["a", "b", "c"] and slots.waiting == 0 and slots.acquire(0)


def _until(condition: Callable[[], bool]) -> None:
    """Poll a condition until it holds, failing after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)
