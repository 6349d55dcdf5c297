"""A bounded soak of the HTTP API on loopback: a mix of calls for a few minutes.

    python benchmarks/bench_soak.py [--seconds 180] [--clients 8] [--workers 1]

Starts `backtriage serve --no-auth` on 127.0.0.1 with a fresh SQLite audit store, then keeps
`--clients` keep-alive connections busy with a fixed mix: half `POST /v1/assess` with answers, a
third with free text (each text holds words the server has not seen, so the vocabulary keeps
growing), the rest interviews (start, then answer). Prints requests, requests/s, p50/p99 and
errors per kind, and the server's memory (resident set, all its processes) at the start and end.
The load generator shares the machine's CPUs with the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import ANSWERS, TEXT, free_port, wait_until_up  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, StopIteration):
            continue
    return total / 1024


def client(port: int, until: float, seed: int, out: dict[str, list[float]], errors: dict[str, int]) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(path: str, body: dict[str, object]) -> dict[str, object] | None:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        return json.loads(data) if response.status < 300 else None

    while time.monotonic() < until:
        roll = rng.random()
        kind = "answers" if roll < 0.5 else "free text" if roll < 0.83 else "interview"
        start = time.perf_counter()
        try:
            if kind == "answers":
                ok = post("/v1/assess", ANSWERS) is not None
            elif kind == "free text":
                novel = " ".join("".join(rng.choices(string.ascii_lowercase, k=8)) for _ in range(5))
                ok = post("/v1/assess", {**TEXT, "text": f"{TEXT['text']} {novel}"}) is not None
            else:
                view = post("/v1/interviews", {"age": 40})
                ok = (
                    view is not None
                    and post(f"/v1/interviews/{view['id']}/answers", {"answers": {}}) is not None
                )
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out[kind].append(1000 * (time.perf_counter() - start))
        errors[kind] += not ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
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
                f"sqlite:///{Path(tmp) / 'soak.db'}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BACKTRIAGE_RATE_LIMIT": "100000000"},
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}")
            client(port, time.monotonic() + 3, 0, defaultdict(list), defaultdict(int))  # warm up
            memory_start = rss_mib(server.pid)
            times: dict[str, list[float]] = defaultdict(list)
            errors: dict[str, int] = defaultdict(int)
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=client, args=(port, until, i + 1, times, errors))
                for i in range(args.clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            memory_end = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("| calls | requests | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for kind in ("answers", "free text", "interview"):
        ms = sorted(times[kind])
        if ms:
            p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
            rate, p50 = len(ms) / args.seconds, statistics.median(ms)
            print(f"| {kind} | {len(ms)} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {errors[kind]} |")
    growth = 100 * (memory_end - memory_start) / memory_start
    print(f"\nserver memory: {memory_start:.0f} MiB after warm-up, {memory_end:.0f} MiB at the end", end="")
    print(f" ({growth:+.1f}%)")
    setup = f"{args.seconds} s, {args.clients} clients, {args.workers} server process(es)"
    print(f"{setup}, {os.cpu_count()} CPUs shared with the load generator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
