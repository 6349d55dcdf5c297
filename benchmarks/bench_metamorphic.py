"""Metamorphic safety of the text reader: harmless rewrites of red-flag descriptions.

    python benchmarks/bench_metamorphic.py [--variants N] [--seed S] [--jobs J] [--details]

Draws N (case, rewrite) variants at random from every red-flag description in the repository
(tests/text/metamorphic.py: the text vignettes and blind cases labelled urgent or emergency, and
the structured red-flag vignettes rendered as text) and checks each against what the reader says
of the unchanged text today. Then the two other relations, each run in full: every text read
below `emergency` with a denial of every red flag added (must never become an emergency), and
every symptom with something that brings it on (must never be read as relieved by sitting or
bending), with the rate at which relievers are read as relief.

Prints a markdown table by rewrite: variants tried, urgency lowered, red flags lost, either; then
the totals and the other relations. With --details, every violation: case id, rewrite (the chain,
for combined ones), urgency before and after, red flags lost, and at most 120 characters of text.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from backtriage.domain.urgency import UrgencyLevel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ is a package

from tests.text.metamorphic import (  # noqa: E402
    PHRASES,
    TRANSFORMATIONS,
    Case,
    Violation,
    all_cases,
    baseline,
    check,
    check_denial,
    check_trigger,
    deny,
    pick_chain,
    read,
    red_flag_cases,
    reliever_texts,
    trigger_texts,
)

TEXT_SHOWN = 120


@dataclass(frozen=True)
class Variant:
    case: Case
    name: str
    seed: int

    @property
    def label(self) -> str:
        if self.name == "combined":
            return "combined(" + "+".join(pick_chain(random.Random(self.seed))) + ")"
        return self.name


def run_variant(v: Variant) -> tuple[str, Violation | None]:
    text = TRANSFORMATIONS[v.name](v.case.text, random.Random(v.seed))
    return v.name, check(v.case, text, v.label)


def run_denial(item: tuple[Case, int, int]) -> Violation | None:
    case, denial, seed = item
    return check_denial(case, deny(case.text, random.Random(seed), denial))


def is_calm(case: Case) -> bool:
    return baseline(case).urgency < UrgencyLevel.EMERGENCY


def run_trigger(item: tuple[str, str]) -> Violation | None:
    return check_trigger(*item)


def reads_relief(item: tuple[str, str]) -> bool:
    return read(item[1]).relief


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.3f})" if b else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000, help="random (case, rewrite) variants")
    parser.add_argument("--seed", type=int, default=0, help="seed for drawing the variants")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--details", action="store_true", help="list every violation (ids, short text)")
    args = parser.parse_args()

    started = time.perf_counter()
    rng = random.Random(args.seed)
    cases = red_flag_cases()
    names = sorted(TRANSFORMATIONS)
    variants = [
        Variant(rng.choice(cases), rng.choice(names), rng.randrange(2**32)) for _ in range(args.variants)
    ]
    with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else _Serial() as pool:
        chunk = max(1, len(variants) // (args.jobs * 8))
        results = list(pool.map(run_variant, variants, chunksize=chunk))
        everything = all_cases()
        calm = [
            c for c, ok in zip(everything, pool.map(is_calm, everything, chunksize=16), strict=True) if ok
        ]
        pairs = [(c, d, rng.randrange(2**32)) for c in calm for d in range(len(PHRASES["denials"]))]
        denials = list(pool.map(run_denial, pairs, chunksize=16))
        triggers = list(pool.map(run_trigger, trigger_texts()))
        relieved = list(pool.map(reads_relief, reliever_texts()))

    tried: Counter[str] = Counter()
    lowered: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    either: Counter[str] = Counter()
    violations = []
    for name, violation in results:
        tried[name] += 1
        if violation is not None:
            violations.append(violation)
            lowered[name] += violation.lowered
            lost[name] += bool(violation.lost)
            either[name] += 1

    print(f"{len(cases)} red-flag cases, {args.variants} variants (seed {args.seed})\n")
    print("| rewrite | variants | urgency lowered | red flags lost | either |")
    print("|---|---|---|---|---|")
    for name in names:
        print(f"| {name} | {tried[name]} | {lowered[name]} | {lost[name]} | {either[name]} |")
    total = len(results)
    print(
        f"| **all** | {total} | {pct(sum(lowered.values()), total)} | {pct(sum(lost.values()), total)} | "
        f"{pct(sum(either.values()), total)} |"
    )
    denied = [v for v in denials if v is not None]
    denied_texts = len({v.case_id for v in denied})
    wrong_triggers = [v for v in triggers if v is not None]
    print()
    print(
        f"denials added to texts read below emergency ({len(calm)} texts x {len(PHRASES['denials'])} "
        f"phrasings): {pct(len(denied), len(denials))} became emergency, in {denied_texts} texts"
    )
    wrong = pct(len(wrong_triggers), len(triggers))
    print(f"triggers (sitting or bending brings it on): {wrong} read as relief")
    print(f"relievers (sitting or bending eases it): {pct(sum(relieved), len(relieved))} read as relief")
    print(f"\n{time.perf_counter() - started:.0f} s, {args.jobs} job(s)")

    if args.details:
        print("\nViolations:")
        for v in sorted(violations + denied + wrong_triggers, key=lambda v: (v.relation, v.case_id)):
            print(_detail(v))


def _detail(v: Violation) -> str:
    text = v.text.replace("\n", " / ")
    text = text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 1] + "…"
    change = v.problem or f"{v.before} -> {v.after}"
    lost = f"; lost {', '.join(sorted(v.lost))}" if v.lost else ""
    return f"- {v.case_id} [{v.relation}]: {change}{lost} | {text!r}"


class _Serial:
    """The executor interface, in this process (for --jobs 1)."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn, items, chunksize: int = 1):  # type: ignore[no-untyped-def]
        return map(fn, items)


if __name__ == "__main__":
    main()
