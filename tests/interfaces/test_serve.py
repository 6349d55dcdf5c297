"""`backtriage serve` says where it is only once it answers: the moment its line appears, the
patient's page and the API docs it names can be opened. A port in use is one plain line."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backtriage.interfaces.api.serving import ready_message
from tests.conftest import free_port

STARTUP = 120.0  # seconds the server may take to load the reader (a busy CI machine)


def _get(url: str) -> int:
    match = re.fullmatch(r"http://([^/:]+):(\d+)(/.*)", url)
    assert match, url
    connection = http.client.HTTPConnection(match[1], int(match[2]), timeout=10)
    try:
        connection.request("GET", match[3])
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _serve(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "backtriage", "serve", "--port", str(port), "--no-auth", *extra]
    return subprocess.Popen(
        [*command, "--database-url", f"sqlite:///{tmp_path / 'serve.db'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _lines_until_ready(process: subprocess.Popen[str]) -> list[str]:
    """Standard error's lines up to and with the ready message's last one."""
    assert process.stderr is not None
    lines: list[str] = []
    timer = threading.Timer(STARTUP, process.kill)  # a server that never says it is ready fails
    timer.start()
    try:
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("Stop it with"):
                return lines
    finally:
        timer.cancel()
    raise AssertionError(f"the server ended without saying it was ready: {lines}")


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_the_address_is_printed_once_the_page_and_docs_answer(tmp_path: Path, workers: int) -> None:
    port = free_port()
    process = _serve(tmp_path, port, "--workers", str(workers))
    try:
        lines = _lines_until_ready(process)
        urls = re.findall(r"http://\S+", "\n".join(lines))
        # Straight away, with no retry: the line appears only once connections are served.
        assert urls == [f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/docs"], lines
        assert [_get(url) for url in urls] == [200, 200]
        assert "ready" in lines[-4] and all("http" not in line for line in lines[:-4])  # no early address
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C stops it, every worker with it
        try:
            assert process.wait(timeout=60) in (0, 130)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            assert process.stderr is not None
            process.stderr.close()


@pytest.mark.slow
def test_a_port_in_use_is_one_plain_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        process = _serve(tmp_path, port)
        _, err = process.communicate(timeout=STARTUP)
    assert process.returncode == 2, err
    assert "Traceback" not in err and f"port {port}: the port is in use" in err, err
    assert time.monotonic() - started < STARTUP


def test_the_message_names_a_reachable_address_for_every_host() -> None:
    assert "http://127.0.0.1:80/" in ready_message("0.0.0.0", 80, "x")
    assert "http://[::1]:80/docs" in ready_message("::", 80, "x")
    assert "http://10.1.2.3:8000/" in ready_message("10.1.2.3", 8000, "x")
    assert "other addresses" not in ready_message("10.1.2.3", 8000, "x")
