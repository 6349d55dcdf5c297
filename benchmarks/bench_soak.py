"""A bounded soak of the HTTP API on loopback: answers, texts and interviews for a few minutes.

    python benchmarks/bench_soak.py [--seconds 180] [--connections 8] [--workers 1]

Starts `backtriage serve --no-auth` on 127.0.0.1 with a fresh SQLite audit store and drives it
with wrk (Debian package `wrk`), in four phases of equal length:

1. `POST /v1/assess` with answers;
2. `POST /v1/assess` with free text, each text carrying five words the server has never seen
   (so the vocabulary and the reader's caches keep growing: the memory test);
3. interviews: start one, answer it, start the next;
4. all three at once, each from its own wrk.

Prints requests, requests/s, p50/p99 and errors for each phase, the server's memory (resident
set, all its processes) after warm-up, at its highest and at the end, and the /healthz latency
measured while a 100,000-character text is being read. wrk shares the machine's CPUs with the
server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import ANSWERS, TEXT, free_port, parse_wrk, wait_until_up  # noqa: E402

#: wrk scripts, one per kind of call. Each defines `request()` so that bodies can vary per call.
LUA = {
    "answers": f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {json.dumps(json.dumps(ANSWERS))}
""",
    "free text": f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local head = {json.dumps('{"text": ' + json.dumps(TEXT["text"])[:-1])}
local function word()
  local letters = {{}}
  for i = 1, 8 do letters[i] = string.char(math.random(97, 122)) end
  return table.concat(letters)
end
init = function(args) math.randomseed(tonumber(args[1])) end
request = function()
  local novel = word() .. " " .. word() .. " " .. word() .. " " .. word() .. " " .. word()
  return wrk.format(nil, nil, nil, head .. " " .. novel .. '", "top": 5}}')
end
""",
    "interviews": """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local pending = nil
request = function()
  if pending then
    local path = "/v1/interviews/" .. pending .. "/answers"
    pending = nil
    return wrk.format(nil, path, nil, '{"answers": {}}')
  end
  return wrk.format(nil, "/v1/interviews", nil, '{"age": 40}')
end
response = function(status, headers, body)
  if status == 201 then pending = string.match(body, '"id"%s*:%s*"([0-9a-f-]+)"') end
end
""",
}
PATH = {"answers": "/v1/assess", "free text": "/v1/assess", "interviews": "/"}


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


def start_wrk(url: str, kind: str, seconds: int, connections: int, folder: Path) -> subprocess.Popen[str]:
    script = folder / f"{kind.replace(' ', '_')}.lua"
    script.write_text(LUA[kind])
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    seed = str(time.monotonic_ns() % 1_000_000_007)  # new words in every run
    return subprocess.Popen([*command, url + PATH[kind], "--", seed], stdout=subprocess.PIPE, text=True)


def healthz_while_reading(port: int) -> tuple[float, float]:
    """/healthz latency (median and worst of 20, ms) while a 100,000-character text is read."""
    words = TEXT["text"] + " "
    text = (words * (100_000 // len(words) + 1))[:100_000]
    reader = threading.Thread(target=_post, args=(port, "/v1/assess", {"text": text}))
    reader.start()
    time.sleep(0.05)
    times = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while reader.is_alive() and len(times) < 20:
        start = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        times.append(1000 * (time.perf_counter() - start))
    reader.join()
    times.sort()
    return (times[len(times) // 2], times[-1]) if times else (float("nan"), float("nan"))


def _post(port: int, path: str, body: dict[str, object]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    conn.getresponse().read()


class MemoryWatch(threading.Thread):
    """Samples the server's memory every half second; keeps the highest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk); skipping.")
        return 0
    port, phase = free_port(), max(2, args.seconds // 4)
    url = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = subprocess.Popen(
            [sys.executable, "-m", "backtriage", "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--no-auth", "--workers", str(args.workers)]
            + ["--database-url", f"sqlite:///{folder / 'soak.db'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BACKTRIAGE_RATE_LIMIT": "100000000"},
        )
        try:
            wait_until_up(url)
            for kind in LUA:  # warm up every path
                start_wrk(url, kind, 2, 2, folder).communicate()
            healthz = healthz_while_reading(port)
            memory_start = rss_mib(server.pid)
            watch = MemoryWatch(server.pid)
            watch.start()
            for kind in LUA:
                out, _ = start_wrk(url, kind, phase, args.connections, folder).communicate()
                rows.append((kind, parse_wrk(out)))
            mixed = [start_wrk(url, kind, phase, max(1, args.connections // 3), folder) for kind in LUA]
            for kind, process in zip(LUA, mixed, strict=True):
                rows.append((f"{kind}, mixed", parse_wrk(process.communicate()[0])))
            watch.running = False
            memory_end = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print_table(rows, memory_start, max(watch.peak, memory_end), memory_end, healthz)
    setup = f"{phase} s per phase, {args.connections} connections, {args.workers} server process(es)"
    print(f"{setup}, {os.cpu_count()} CPUs shared with wrk")
    return 0


def print_table(
    rows: list[tuple[str, dict[str, float]]],
    memory_start: float,
    memory_peak: float,
    memory_end: float,
    healthz: tuple[float, float],
) -> None:
    print("| calls | requests | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for kind, r in rows:
        print(
            f"| {kind} | {r['requests']:.0f} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
            f"| {r['errors']:.0f} |"
        )
    growth = 100 * (memory_end - memory_start) / memory_start
    print(
        f"\nserver memory: {memory_start:.0f} MiB after warm-up, {memory_peak:.0f} MiB at most, "
        f"{memory_end:.0f} MiB at the end ({growth:+.1f}%)"
    )
    print(
        f"/healthz while a 100,000-character text is read: p50 {healthz[0]:.1f} ms, max {healthz[1]:.1f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
