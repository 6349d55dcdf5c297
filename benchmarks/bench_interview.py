"""Interview efficiency with simulated patients: structured vignettes and opening-text scenarios.

    python benchmarks/bench_interview.py

Structured vignettes (tests/vignettes): a simulated patient answers from the vignette's findings
(anything not mentioned is "no"; red-flag screen questions in vignettes marked "screen
incomplete" stay "don't know"). Scenarios (tests/scenarios/interview.yaml): the interview starts
from what the text reader took from a short lay opening text, then the patient answers from the
scenario's truth. Prints the number of questions to the final outcome, the share of interviews
that reach the expected urgency, under-triage, and red-flag coverage (every applicable red-flag
screen question asked before any non-emergency outcome), then one row per scenario.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from backtriage.domain.interview import InterviewStep
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine
from backtriage.reasoning.interview import Interviewer
from backtriage.reasoning.simulate import interview_vignette, meets_expectations
from backtriage.text import understand

ROOT = Path(__file__).resolve().parent.parent


def scenario_outcome(
    interviewer: Interviewer, scenario: Mapping[str, Any]
) -> tuple[InterviewStep, list[str], bool]:
    """Run one opening-text scenario; returns the last step, the questions and whether it met
    every expectation."""
    opening = understand(scenario["opening"], kb=interviewer.kb).answers
    step, asked = interview_vignette(interviewer, scenario, opening=opening)
    return step, asked, meets_expectations(step, asked, scenario["expected"])


def _vignette_rows(interviewer: Interviewer) -> list[tuple[str, str]]:
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
    return [
        ("vignettes", str(n)),
        ("questions to outcome, median", f"{statistics.median(counts):g} (target <= 8)"),
        ("questions to outcome, 90th percentile", str(ordered[int(0.9 * (n - 1))])),
        ("questions to outcome, max", str(max(counts))),
        ("right urgency", f"{right}/{n} ({100 * right / n:.1f}%)"),
        ("under-triaged", f"{under}/{n}"),
        ("red-flag coverage", f"{covered}/{n} ({100 * covered / n:.0f}%)"),
        ("time per whole interview, median", f"{1000 * statistics.median(seconds):.1f} ms"),
    ]


def main() -> None:
    interviewer = Interviewer(default_engine())
    print("Structured vignettes\n\n| measure | value |\n|---|---|")
    for k, val in _vignette_rows(interviewer):
        print(f"| {k} | {val} |")
    scenarios = yaml.safe_load((ROOT / "tests" / "scenarios" / "interview.yaml").read_text())
    print("\nOpening-text scenarios\n")
    print("| scenario | urgency (expected) | leading / suspected | scope | questions | met |")
    print("|---|---|---|---|---|---|")
    met_all = 0
    for s in scenarios:
        step, asked, met = scenario_outcome(interviewer, s)
        a = step.assessment
        named = ", ".join([a.conditions[0].id, *(c for c in a.suspected if c != a.conditions[0].id)][:3])
        urgency = f"{a.urgency.value} ({s['expected']['urgency']})"
        print(
            f"| {s['id']} | {urgency} | {named} | {a.scope.value} | {len(asked)} | {'yes' if met else 'NO'} |"
        )
        met_all += met
    print(f"\nScenarios meeting every expectation: {met_all}/{len(scenarios)}")


if __name__ == "__main__":
    main()
