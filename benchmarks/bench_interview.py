"""Interview efficiency on the structured vignettes, with a simulated patient.

    python benchmarks/bench_interview.py

For every vignette a simulated patient answers from the vignette's findings (anything not
mentioned is "no"; red-flag screen questions in vignettes marked "screen incomplete" stay
"don't know"). Prints the number of questions to the final outcome, the share of interviews that
reach the vignette's urgency, under-triage, and red-flag coverage (every applicable red-flag
screen question asked before any non-emergency outcome).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine
from backtriage.reasoning.interview import Interviewer
from backtriage.reasoning.simulate import interview_vignette

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    interviewer = Interviewer(default_engine())
    vignettes = [
        v
        for p in sorted((ROOT / "tests" / "vignettes").glob("*.yaml"))
        for v in yaml.safe_load(p.read_text())
    ]
    counts, right, under, covered, seconds = [], 0, 0, 0, []
    for v in vignettes:
        start = time.perf_counter()
        step, asked = interview_vignette(interviewer, v)
        seconds.append(time.perf_counter() - start)
        expected = UrgencyLevel(v["expected"]["urgency"])
        right += step.assessment.urgency is expected
        under += step.assessment.urgency < expected
        counts.append(len(asked))
        covered += step.assessment.urgency is UrgencyLevel.EMERGENCY or all(
            p.finding in asked for p in step.assessment.pending_red_flags
        )
    n = len(vignettes)
    ordered = sorted(counts)
    rows = [
        ("vignettes", str(n)),
        ("questions to outcome, median", f"{statistics.median(counts):g} (target <= 8)"),
        ("questions to outcome, 90th percentile", str(ordered[int(0.9 * (n - 1))])),
        ("questions to outcome, max", str(max(counts))),
        ("right urgency", f"{right}/{n} ({100 * right / n:.1f}%)"),
        ("under-triaged", f"{under}/{n}"),
        ("red-flag coverage", f"{covered}/{n} ({100 * covered / n:.0f}%)"),
        ("time per whole interview, median", f"{1000 * statistics.median(seconds):.1f} ms"),
    ]
    print("| measure | value |\n|---|---|")
    for k, val in rows:
        print(f"| {k} | {val} |")


if __name__ == "__main__":
    main()
