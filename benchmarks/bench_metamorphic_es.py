"""Metamorphic safety of the Spanish reader: harmless rewrites of Spanish red-flag descriptions.

    python benchmarks/bench_metamorphic_es.py [--variants N] [--seed S] [--jobs J] [--details]

Draws N (case, rewrite) variants at random from the Spanish blind cases labelled urgent or
emergency (tests/text/metamorphic_es.py: ages, greetings, sign-offs, unrelated history and
durations, second complaints, reordering, line breaks, and two or three of them combined) and
checks each against what the reader says of the unchanged text today; then every Spanish case
read below `emergency` with each denial of every red flag added (must never become an emergency).
Prints a markdown table by rewrite, as bench_metamorphic.py does for English; the cases listed
as known in tests/text/test_metamorphic_es.py are included here, so they show in the counts.
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

from bench_metamorphic import _detail, _Serial, pct  # noqa: E402  (this folder is on the path)

from tests.text.metamorphic import Case, Violation, _add  # noqa: E402
from tests.text.metamorphic_es import (  # noqa: E402
    PHRASES_ES,
    TRANSFORMATIONS_ES,
    check_denial_es,
    check_es,
    read_es,
    spanish_cases,
    spanish_red_flag_cases,
)


@dataclass(frozen=True)
class Variant:
    case: Case
    name: str
    seed: int


def run_variant(v: Variant) -> tuple[str, Violation | None]:
    text = TRANSFORMATIONS_ES[v.name](v.case.text, random.Random(v.seed))
    return v.name, check_es(v.case, text, v.name)


def run_denial(item: tuple[Case, int]) -> Violation | None:
    case, which = item
    denied = _add(case.text, PHRASES_ES["denials"][which], random.Random(which), "after")
    return check_denial_es(case, denied)


def is_calm(case: Case) -> bool:
    return read_es(case.text).urgency < UrgencyLevel.EMERGENCY


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--variants", type=int, default=3_000, help="random (case, rewrite) variants")
    parser.add_argument("--seed", type=int, default=0, help="seed for drawing the variants")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--details", action="store_true", help="list every violation (ids, short text)")
    args = parser.parse_args()

    started = time.perf_counter()
    rng = random.Random(args.seed)
    cases = spanish_red_flag_cases()
    names = sorted(TRANSFORMATIONS_ES)
    variants = [
        Variant(rng.choice(cases), rng.choice(names), rng.randrange(2**32)) for _ in range(args.variants)
    ]
    with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else _Serial() as pool:
        results = list(pool.map(run_variant, variants, chunksize=max(1, len(variants) // (args.jobs * 8))))
        everything = spanish_cases()
        calm = [
            c for c, ok in zip(everything, pool.map(is_calm, everything, chunksize=16), strict=True) if ok
        ]
        pairs = [(c, d) for c in calm for d in range(len(PHRASES_ES["denials"]))]
        denials = list(pool.map(run_denial, pairs, chunksize=16))

    tried: Counter[str] = Counter()
    lowered: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    violations = []
    for name, violation in results:
        tried[name] += 1
        if violation is not None:
            violations.append(violation)
            lowered[name] += violation.lowered
            lost[name] += bool(violation.lost)

    print(f"{len(cases)} Spanish red-flag cases, {args.variants} variants (seed {args.seed})\n")
    print("| rewrite | variants | urgency lowered | red flags lost |")
    print("|---|---|---|---|")
    for name in names:
        print(f"| {name} | {tried[name]} | {lowered[name]} | {lost[name]} |")
    total = len(results)
    print(f"| **all** | {total} | {pct(sum(lowered.values()), total)} | {pct(sum(lost.values()), total)} |")
    denied = [v for v in denials if v is not None]
    print(
        f"\ndenials added to texts read below emergency ({len(calm)} texts x {len(PHRASES_ES['denials'])} "
        f"phrasings): {pct(len(denied), len(denials))} became emergency"
    )
    print(f"\n{time.perf_counter() - started:.0f} s, {args.jobs} job(s)")
    if args.details:
        print("\nViolations:")
        for v in sorted(violations + denied, key=lambda v: (v.relation, v.case_id)):
            print(_detail(v))


if __name__ == "__main__":
    main()
