"""CDS Hooks patient-view latency on loopback: a real server, signed calls, bounded in time.

    python benchmarks/bench_cds_hooks.py [--requests 300] [--clients 1]

Starts `backtriage serve` on 127.0.0.1 with a fresh SQLite audit store, trusting one made-up EHR
whose ES384 key is given out of band (a `jwks_file`, so nothing leaves the machine), and posts the
spec-shaped patient-view calls of tests/interop/data/cds with their full prefetch. Every call
carries a fresh JWT (each `jti` is used once; tokens are signed before the clock starts), is
verified, assessed and written to the audit store, as in production. Prints p50/p95/p99 latency
per example. Target: p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "interop" / "data" / "cds"
ISSUER = "https://ehr.bench.invalid"
KID = "bench-es384"
SERVICE = "/cds-services/back-numbness-patient-view"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def token(key: ec.EllipticCurvePrivateKey, aud: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": KID, "typ": "JWT"})


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def drive(url: str, body: dict, tokens: list[str], clients: int) -> tuple[list[float], int]:  # type: ignore[type-arg]
    """Post `body` once per token from `clients` threads; latencies (ms) and non-200 count."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    queue = list(tokens)

    def worker() -> None:
        with httpx.Client(timeout=30) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    signed = queue.pop()
                began = time.perf_counter()
                r = http.post(url + SERVICE, json=body, headers={"Authorization": f"Bearer {signed}"})
                took = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(took)
                    errors[0] += r.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="calls per example")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients")
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.get_algorithm_by_name("ES384").to_jwk(key.public_key()))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    examples = {
        "saddle numbness + retention (note, 2 observations)": "patient-view-saddle",
        "posture (note)": "patient-view-posture",
        "nothing about the back (no card)": "patient-view-unrelated",
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jwks = folder / "ehr.jwks.json"
        jwks.write_text(json.dumps({"keys": [{**jwk, "kid": KID, "alg": "ES384", "use": "sig"}]}))
        env = {
            **os.environ,
            "BACKTRIAGE_RATE_LIMIT": "100000000",
            "BACKTRIAGE_PUBLIC_URL": url,
            "BACKTRIAGE_CDS_ISSUERS": json.dumps([{"iss": ISSUER, "jwks_file": str(jwks)}]),
        }
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
                "--database-url",
                f"sqlite:///{folder / 'bench.db'}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        results = {}
        try:
            wait_until_up(url)
            for name, file in examples.items():
                body = json.loads((EXAMPLES / f"{file}.json").read_text())
                drive(url, body, [token(key, url + SERVICE) for _ in range(20)], 1)  # warm up
                tokens = [token(key, url + SERVICE) for _ in range(args.requests)]
                began = time.perf_counter()
                latencies, errors = drive(url, body, tokens, args.clients)
                results[name] = (latencies, errors, time.perf_counter() - began)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("| patient-view with prefetch | requests | requests/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for name, (latencies, errors, seconds) in results.items():
        print(
            f"| {name} | {len(latencies)} | {len(latencies) / seconds:.0f} | "
            f"{statistics.median(latencies):.1f} | {percentile(latencies, 95):.1f} | "
            f"{percentile(latencies, 99):.1f} | {errors} |"
        )
    print(
        f"\nOne server process on loopback, {args.clients} client(s), JWT verified and audit store "
        f"written on every call; {os.cpu_count()} CPUs; target p99 < 100 ms and no errors"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
