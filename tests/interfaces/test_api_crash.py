"""Crash safety: `kill -9` a real server ten times while clients write, restart it on the same
database each time, and check that every acknowledged write is stored exactly once.

Acknowledged means the client got a 2xx answer. Writes that were in flight when the server died
may or may not be stored (the client never heard back), but must never be stored twice or in
part. Runs on SQLite with one and with two server processes, and on PostgreSQL when
BACKTRIAGE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from backtriage.storage import AuditStore
from backtriage.storage.models import AssessmentRecord, InterviewEvent, InterviewRecord
from tests.conftest import DATABASES, free_port, fresh_database

KILLS = 10
SCREEN_NO = {"saddle_anaesthesia": False, "bladder_dysfunction": False, "bowel_dysfunction": False}
CONFIGURATIONS = [(db, 1) for db in DATABASES] + [("sqlite", 2)]


class Server:
    """`backtriage serve` in its own process group, so a kill takes every worker with it. `up` is
    set while it answers, so clients wait for it to come back instead of sleeping."""

    def __init__(self, url: str, workers: int) -> None:
        self.url, self.workers, self.port = url, workers, free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.up = threading.Event()

    def start(self) -> None:
        command = [sys.executable, "-m", "backtriage", "serve", "--port", str(self.port), "--no-auth"]
        self.process = subprocess.Popen(
            [*command, "--workers", str(self.workers), "--database-url", self.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BACKTRIAGE_RATE_LIMIT": "100000000"},
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _call(self.port, "GET", "/healthz")[0] == 200:
                    self.up.set()
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.up.clear()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _call(port: int, method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            method, path, None if body is None else json.dumps(body), {"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


class Progress:
    """Acknowledged writes of every writer, counted as they come, so the test can wait for load."""

    def __init__(self) -> None:
        self.assessments = self.answers = 0
        self._changed = threading.Condition()

    def note(self, kind: str) -> None:
        with self._changed:
            setattr(self, kind, getattr(self, kind) + 1)
            self._changed.notify_all()

    def wait_for_more(self, each: int, timeout: float = 60) -> None:
        """Until `each` more assessments and `each` more answers are acknowledged."""
        with self._changed:
            assessments, answers = self.assessments + each, self.answers + each
            met = self._changed.wait_for(
                lambda: self.assessments >= assessments and self.answers >= answers, timeout
            )
        assert met, "the writers made no progress"


class Writer(threading.Thread):
    """Writes assessments (each text carrying a unique reference), interviews, and answers to
    them, one finding at a time, never sending the same request twice; records what was sent
    and what the server acknowledged."""

    def __init__(self, server: Server, findings: list[str], progress: Progress) -> None:
        super().__init__(daemon=True)
        self.server, self.port, self.findings, self.running = server, server.port, findings, True
        self.progress = progress
        self.assessments: list[str] = []
        self.answers: list[tuple[str, str]] = []  # acknowledged (interview id, finding)
        self.sent: Counter[str] = Counter()  # answer requests sent, per interview

    def run(self) -> None:
        interview: str | None = None
        asked = 0
        while self.running:
            try:
                if interview is None or asked == len(self.findings):
                    interview = None
                    reference = f"ref-{uuid.uuid4().hex}"
                    status, _ = _call(self.port, "POST", "/v1/assess", {"text": f"numb back {reference}"})
                    if status == 200:
                        self.assessments.append(reference)
                        self.progress.note("assessments")
                    status, view = _call(self.port, "POST", "/v1/interviews", {"answers": SCREEN_NO})
                    interview, asked = (str(view["id"]), 0) if status == 201 else (None, 0)
                    continue
                finding = self.findings[asked]
                asked += 1
                self.sent[interview] += 1
                path = f"/v1/interviews/{interview}/answers"
                status, _ = _call(self.port, "POST", path, {"answers": {finding: False}})
                if status == 200:
                    self.answers.append((interview, finding))
                    self.progress.note("answers")
                elif status == 409:  # the interview finished: start another
                    interview = None
            except (OSError, http.client.HTTPException, json.JSONDecodeError):
                self.server.up.wait(60)  # the server is down: wait for it to come back


@pytest.mark.parametrize(("database", "workers"), CONFIGURATIONS, ids=lambda v: str(v))
def test_every_acknowledged_write_survives_ten_kills_exactly_once(
    database: str, workers: int, tmp_path: Path
) -> None:
    with fresh_database(database, tmp_path) as url:
        store = AuditStore(url)
        store.upgrade()
        findings = [
            "posture_related",
            "resolves_with_movement",
            "radiates_to_leg",
            "fever",
            "unexplained_weight_loss",
        ]
        server = Server(url, workers)
        server.start()
        progress = Progress()
        writers = [Writer(server, findings, progress) for _ in range(4)]
        for w in writers:
            w.start()
        try:
            for _ in range(KILLS):
                progress.wait_for_more(3)  # mid-load: every writer is in a request most of the time
                server.kill()
                server.start()
            progress.wait_for_more(3)  # the restarted server takes writes again
        finally:
            for w in writers:
                w.running = False
            for w in writers:
                w.join(timeout=60)
            server.kill()
        _assert_stored_exactly_once(store, writers)
        store.engine.dispose()


def _assert_stored_exactly_once(store: AuditStore, writers: list[Writer]) -> None:
    acknowledged = [r for w in writers for r in w.assessments]
    answered = [a for w in writers for a in w.answers]
    assert len(acknowledged) > 20 and len(answered) > 20, "too little load to test anything"
    sent = sum((w.sent for w in writers), Counter[str]())
    acked = Counter(interview for interview, _ in answered)
    with store.transaction() as s:
        texts = Counter(
            str(inputs.get("text")).rsplit(" ", 1)[-1]
            for inputs in s.scalars(select(AssessmentRecord.inputs))
        )
        interviews = {r.id: r.answers for r in s.scalars(select(InterviewRecord))}
        # One event opens each interview; each answer request adds at most one more.
        events = Counter(s.scalars(select(InterviewEvent.interview_id)))
    assert [r for r in acknowledged if texts[r] != 1] == []  # every acknowledged assessment, once
    assert [a for a in answered if interviews.get(a[0], {}).get(a[1]) is not False] == []  # kept
    assert [i for i in acked if not acked[i] <= events[i] - 1 <= sent[i]] == []  # no event lost or doubled
