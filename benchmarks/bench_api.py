"""HTTP API load on loopback with wrk (Debian package `wrk`): bounded in time, local only.

    python benchmarks/bench_api.py [--seconds 10] [--connections 16] [--workers 1]

Starts `backtriage serve --no-auth` on 127.0.0.1 with a fresh SQLite audit store, drives
`POST /v1/assess` with answers and with free text, and prints requests per second, p50/p99
latency and errors. Every request is also written to the audit store, as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ANSWERS = {
    "answers": {
        "saddle_anaesthesia": False,
        "bladder_dysfunction": False,
        "bowel_dysfunction": False,
        "posture_related": True,
        "resolves_with_movement": True,
    },
    "age": 34,
    "top": 5,
}
TEXT = {
    "text": "Tingling in my low back after sitting, gone in minutes when I walk. No numbness "
    "down below, bladder and bowels normal. I'm 34.",
    "top": 5,
}
#: About sixty words: the text of the API speed target.
TEXT_60 = {
    "text": "Hi, I'm 34 and for the last two weeks I get tingling and a bit of numbness in my lower "
    "back after sitting at my desk for a few hours. It goes away within minutes when I get up and "
    "walk around. No numbness down below, no trouble with my bladder or bowels, and my legs feel "
    "strong. Should I be worried?",
    "top": 5,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def to_ms(value: str) -> float:
    number, unit = float(re.match(r"[\d.]+", value).group()), re.sub(r"[\d.]+", "", value)  # type: ignore[union-attr]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, body: dict, seconds: int, connections: int, folder: Path) -> dict[str, float]:  # type: ignore[type-arg]
    script = folder / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url + "/v1/assess",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, float]:
    """Requests, requests/s, p50/p99 (ms) and errors (non-2xx and socket errors) from wrk's report."""
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, flags=re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": to_ms(latency["50"]),
        "p99": to_ms(latency["99"]),
        "errors": (int(errors.group(1)) if errors else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk); skipping.")
        return 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backtriage",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-auth",
                "--workers",
                str(args.workers),
                "--database-url",
                f"sqlite:///{folder / 'bench.db'}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BACKTRIAGE_RATE_LIMIT": "100000000"},
        )
        try:
            wait_until_up(url)
            for body in (ANSWERS, TEXT, TEXT_60):  # warm up every path
                req = urllib.request.Request(
                    url + "/v1/assess",
                    data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )
                urllib.request.urlopen(req, timeout=30).read()
            results = {
                name: run_wrk(url, body, args.seconds, args.connections, folder)
                for name, body in (("answers", ANSWERS), ("free text", TEXT), ("a 60-word text", TEXT_60))
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        "| POST /v1/assess with | requests | requests/s | p50 ms | p99 ms | errors |\n"
        "|---|---|---|---|---|---|"
    )
    for name, r in results.items():
        print(
            f"| {name} | {r['requests']:.0f} | {r['rps']:.0f} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {r['errors']:.0f} |"
        )
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.seconds}s on loopback; "
        f"{args.workers} server process(es); "
        f"{os.cpu_count()} CPUs; target >= 300 requests/s with p99 < 50 ms and no errors"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
