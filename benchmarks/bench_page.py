"""The patient's page on loopback: time to the first question and to each next one.

    python benchmarks/bench_page.py [--interviews 30]

Starts `backtriage serve` on 127.0.0.1 with a fresh SQLite store and runs whole interviews as a
browser would (form posts, redirects, the cookie), answering "None of these" or "No". Prints the
median and 95th percentile of: the start (opening text read, interview made, first question
shown) and each next question (answer stored, next question chosen and shown). Targets: first
question under 1 s, each next under 200 ms. Times include the HTTP round trips on loopback.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import free_port, wait_until_up  # noqa: E402

TEXT = "my back goes numb and tingly when I sit for ages, gone in a minute when I walk about"


class Browser:
    """Just enough of one: a connection, its cookies, the form's anti-forgery token, and
    redirects followed."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[str, str]:
        body = urllib.parse.urlencode({**form, "csrf": self.csrf}) if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body, headers)
        response = self.conn.getresponse()
        html = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, val = value.split(";", 1)[0].partition("=")
                self.cookies[key] = val
        if (token := re.search(r'name="csrf" value="([^"]+)"', html)) is not None:
            self.csrf = token.group(1)
        if response.status == 303:
            return self.request("GET", response.getheader("Location", "/"))
        return path, html


def interview(port: int) -> tuple[float, list[float]]:
    browser = Browser(port)
    browser.request("GET", "/")
    start = time.perf_counter()
    path, html = browser.request("POST", "/start", {"text": TEXT, "age": "34"})
    first = time.perf_counter() - start
    nexts = []
    while path != "/result":
        if 'value="none"' in html:
            form = {"choice": "none"}
        elif 'name="option"' in html:
            form = {"choice": "unsure"}
        else:
            form = {"choice": "no"}
        start = time.perf_counter()
        path, html = browser.request("POST", "/interview/answer", form)
        nexts.append(time.perf_counter() - start)
        if len(nexts) > 40:
            raise SystemExit("the interview did not end")
    assert re.search(r'class="outcome', html)
    return first, nexts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=30)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [sys.executable, "-m", "backtriage", "serve", "--port", str(port)]
            + ["--database-url", f"sqlite:///{Path(tmp) / 'page.db'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BACKTRIAGE_RATE_LIMIT": "100000"},
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}")
            interview(port)  # warm up
            firsts, nexts = [], []
            for _ in range(args.interviews):
                first, more = interview(port)
                firsts.append(first)
                nexts.extend(more)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("| step | count | p50 ms | p95 ms | target |\n|---|---|---|---|---|")
    for name, times, target in (("first question", firsts, "< 1000"), ("next question", nexts, "< 200")):
        ms = sorted(1000 * t for t in times)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {target} |")
    print(f"\n{args.interviews} interviews on loopback, one at a time; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
