"""No patient text in any log: a canary string goes through every error path of a real server
(`backtriage serve`, logging at debug level), and must not appear in anything it writes.

Errors that the API cannot produce on demand are injected: the launcher below wraps the service
so that chosen texts raise an exception quoting the text, fail validation on it, or take too
long; the database is broken from outside (a dropped table, a lock held past the time budget).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from backtriage.logs import NoContent, server_log_config
from tests.conftest import free_port

CANARY = "CANARY-5e1d numb between my legs"

LAUNCHER = """
import sys, time
from backtriage.domain.case import Case
from backtriage.service import TriageService
from backtriage.interfaces import cli

original_assess, original_start = TriageService.assess, TriageService.start_interview
ENDED = sys.argv[3]

def ended(name):
    with open(ENDED, "a") as out:
        out.write(name + "\\n")

def assess(self, case, text=None, api_key_id=None):
    if text and text.startswith("raise:"):
        raise ValueError(text)
    if text and text.startswith("invalid:"):
        Case.model_validate({"age": text})
    if text and text.startswith("slow:"):
        try:
            time.sleep(3)
            return original_assess(self, case, text, api_key_id)
        finally:
            ended("slow")
    return original_assess(self, case, text, api_key_id)

def start_interview(self, case, text=None, api_key_id=None):
    try:
        return original_start(self, case, text, api_key_id)
    finally:
        ended("interview")

TriageService.assess = assess
TriageService.start_interview = start_interview
sys.argv = ["backtriage", "serve", "--port", sys.argv[1], "--database-url", sys.argv[2]]
cli.main()
"""


class Client:
    def __init__(self, port: int, key: str | None = None) -> None:
        self.port, self.key = port, key

    def send(self, method: str, path: str, body: bytes | None = None, key: str | None = None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key or self.key}"}
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def post(self, path: str, payload: object, key: str | None = None) -> int:
        return self.send("POST", path, json.dumps(payload).encode(), key)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Client, Path, subprocess.Popen[str]]]:
    database = tmp_path / "audit.db"
    url = f"sqlite:///{database}"
    env = {**os.environ, "BACKTRIAGE_READ_TIMEOUT": "1", "BACKTRIAGE_RATE_LIMIT": "40"}
    created = subprocess.run(
        [sys.executable, "-m", "backtriage", "apikey", "create", "logs", "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    key = next(w for w in created.stdout.split() if w.startswith("bt_"))
    port = free_port()
    log = (tmp_path / "server.log").open("w")  # a file, not a pipe: a full pipe would stall it
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(port), url, str(tmp_path / "ended.txt")],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "PYTHONDEVMODE": "1"},  # every warning shown, so none can hide a leak
    )
    client = Client(port, key)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.send("GET", "/healthz") == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        raise AssertionError("the server did not start")
    yield client, database, process
    process.kill()
    process.wait()
    log.close()


def test_the_canary_reaches_no_log_on_any_error_path(
    server: tuple[Client, Path, subprocess.Popen[str]],
) -> None:
    client, database, process = server
    quoted = urllib.parse.quote(CANARY)
    expected = {
        "malformed JSON": (client.send("POST", "/v1/assess", b'{"text": "' + CANARY.encode()), 400),
        "unknown key": (client.post("/v1/assess", {"text": CANARY}, key=f"bt_{quoted}"), 401),
        "unknown interview": (client.send("GET", f"/v1/interviews/{quoted}"), 404),
        "unknown path": (client.send("GET", f"/v1/{quoted}"), 404),
        "wrong method": (client.send("GET", f"/v1/assess?text={quoted}"), 405),
        "too large": (client.post("/v1/assess", {"text": CANARY * 100_000}), 413),
        "NUL in text": (client.post("/v1/assess", {"text": CANARY + "\x00"}), 422),
        "bad field": (client.post("/v1/assess", {"age": CANARY}), 422),
        "unknown finding": (client.post("/v1/assess", {"answers": {CANARY: True}}), 422),
        "exception quoting the text": (client.post("/v1/assess", {"text": f"raise: {CANARY}"}), 500),
        "validation error inside": (client.post("/v1/assess", {"text": f"invalid: {CANARY}"}), 500),
        "too slow": (client.post("/v1/assess", {"text": f"slow: {CANARY}"}), 503),
    }
    # The database held by another writer past the time budget, then broken outright.
    with sqlite3.connect(database, timeout=30) as held:
        held.execute("BEGIN EXCLUSIVE")
        expected["database locked"] = (client.post("/v1/interviews", {"text": CANARY}), 503)
        expected["health while locked"] = (client.send("GET", "/healthz"), 200)
        expected["key check while locked"] = (client.send("GET", "/v1/knowledge/findings"), 200)
        held.rollback()
    with sqlite3.connect(database) as broken:
        broken.execute("DROP TABLE assessments")
    expected["database broken"] = (client.post("/v1/assess", {"text": CANARY}), 500)
    statuses = [client.post("/v1/assess", {"text": CANARY}) for _ in range(40)]
    expected["rate limited"] = (statuses[-1], 429)
    # Both calls that were given up on (too slow, database locked) run to their end, and log if
    # they would, before the log is read.
    _wait_for_lines(database.parent / "ended.txt", {"slow", "interview"})
    process.terminate()
    process.wait(timeout=30)
    log = (database.parent / "server.log").read_text()

    assert {name: got for name, (got, want) in expected.items() if got != want} == {}
    assert "ValueError" in log and "ValidationError" in log and "OperationalError" in log  # logged...
    assert CANARY not in log and quoted not in log  # ...without the text


def _wait_for_lines(path: Path, lines: set[str], timeout: float = 60) -> None:
    """Poll a file until it holds every one of `lines`, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and lines <= set(path.read_text().split())):
        assert time.monotonic() < deadline, f"{path.name} never listed {sorted(lines)}"
        time.sleep(0.05)


def test_the_filter_keeps_the_message_and_the_type_chain_only() -> None:
    try:
        try:
            raise KeyError(CANARY)
        except KeyError as inner:
            raise RuntimeError(CANARY) from inner
    except RuntimeError:
        record = logging.LogRecord(
            "backtriage.api", logging.ERROR, __file__, 1, "internal error", None, sys.exc_info()
        )
    assert NoContent().filter(record)
    assert record.getMessage() == "internal error (RuntimeError <- KeyError)"
    assert record.exc_info is None and record.exc_text is None


def test_the_server_log_config_filters_every_handler() -> None:
    config = server_log_config()
    assert all(h["filters"] == ["no_content"] for h in config["handlers"].values())
    assert config["root"]["handlers"] == ["default"]


def test_a_cli_internal_error_names_its_type_and_not_the_text(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import backtriage.text
    from backtriage.interfaces import cli

    def broken(text: str, *args: object, **kwargs: object) -> None:
        raise ValueError(f"could not read {text!r}")

    monkeypatch.setattr(backtriage.text, "assess_text", broken)
    monkeypatch.setattr(sys, "argv", ["backtriage", "assess", CANARY])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capfd.readouterr()
    assert exit_.value.code == 70 and "ValueError" in err
    assert CANARY not in out + err
