"""Speed of the reasoning core, in-process and through `backtriage assess --jsonl`.

    python benchmarks/bench_core.py [--cases 10000] [--single 5000]

Prints a table of assessments per second and p50/p99 latency. Cases are the clinical vignettes
plus seeded random answer sets over the whole vocabulary, so the numbers cover both realistic
and dense inputs. Nothing here is a test: targets are compared and reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from backtriage.domain.case import Case
from backtriage.reasoning.engine import default_engine

ROOT = Path(__file__).resolve().parent.parent


def corpus(n: int, seed: int = 7) -> list[dict[str, object]]:
    engine = default_engine()
    asked = [f.id for f in engine.kb.asked_findings]
    vignettes = []
    for path in sorted((ROOT / "tests" / "vignettes").glob("*.yaml")):
        for v in yaml.safe_load(path.read_text()):
            vignettes.append({"answers": v["answers"], "age": v.get("age"), "sex": v.get("sex")})
    rng = random.Random(seed)
    cases: list[dict[str, object]] = []
    while len(cases) < n:
        if vignettes and rng.random() < 0.5:
            cases.append(rng.choice(vignettes))
            continue
        chosen = rng.sample(asked, rng.randint(3, 20))
        cases.append(
            {
                "answers": {f: rng.choice([True, False, False, None]) for f in chosen},
                "age": rng.randint(16, 95),
                "sex": rng.choice(["female", "male"]),
            }
        )
    return cases


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_in_process(cases: list[dict[str, object]], serialise: bool) -> dict[str, float]:
    engine = default_engine()
    parsed = [Case(answers=c["answers"], age=c["age"], sex=c["sex"]) for c in cases]  # type: ignore[arg-type]
    for case in parsed[:200]:
        engine.assess(case)
    times = []
    start = time.perf_counter()
    for case in parsed:
        t0 = time.perf_counter_ns()
        result = engine.assess(case)
        if serialise:
            result.model_dump_json()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    wall = time.perf_counter() - start
    return {
        "n": len(parsed),
        "per_s": len(parsed) / wall,
        "p50": statistics.median(times),
        "p99": percentile(times, 0.99),
    }


def bench_jsonl(cases: list[dict[str, object]], repeats: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        with path.open("w") as fh:
            for i, c in enumerate(cases):
                fh.write(json.dumps({"id": i, **c}) + "\n")
        walls = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "backtriage", "assess", "--jsonl", str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
            walls.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"jsonl run failed ({proc.returncode}): {proc.stderr.strip()}")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "backtriage", "version"], stdout=subprocess.DEVNULL, check=True)
        startup = time.perf_counter() - t0
    wall = statistics.median(walls)
    return {"n": len(cases), "wall": wall, "per_s": len(cases) / wall, "startup": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases for the --jsonl run")
    parser.add_argument("--single", type=int, default=5_000, help="cases for in-process timing")
    args = parser.parse_args()

    single = corpus(args.single)
    core = bench_in_process(single, serialise=False)
    with_json = bench_in_process(single, serialise=True)
    batch = bench_jsonl(corpus(args.cases, seed=11))

    rows = [
        (
            "in-process assess()",
            core["n"],
            f"{core['per_s']:,.0f}",
            f"{core['p50']:.3f}",
            f"{core['p99']:.3f}",
            "-",
            "p50 < 1 ms",
        ),
        (
            "in-process assess() + JSON",
            with_json["n"],
            f"{with_json['per_s']:,.0f}",
            f"{with_json['p50']:.3f}",
            f"{with_json['p99']:.3f}",
            "-",
            "-",
        ),
        (
            "CLI assess --jsonl (wall, incl. start-up)",
            batch["n"],
            f"{batch['per_s']:,.0f}",
            "-",
            "-",
            f"{batch['wall']:.2f}",
            "< 10 s for 10,000",
        ),
        ("CLI start-up alone", 1, "-", "-", "-", f"{batch['startup']:.2f}", "-"),
    ]
    header = ("benchmark", "cases", "per second", "p50 ms", "p99 ms", "wall s", "target")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
