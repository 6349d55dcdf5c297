"""The longest texts the API accepts (100,000 characters), hostile and ordinary, read once each.

    python benchmarks/bench_long_text.py [--repeat 3]

Prints, for each kind of text, its length, the mentions found and the best and worst of
`--repeat` readings, in seconds, in one process set up as the server is. Target: every text
under 1 s on one core.
"""

from __future__ import annotations

import argparse
import gc
import random
import string
import sys
import time

from backtriage.text import understand
from backtriage.text.pipeline import default_pipeline

LIMIT = 100_000


def fill(unit: str) -> str:
    return (unit * (LIMIT // len(unit) + 1))[:LIMIT]


def texts() -> dict[str, str]:
    rng = random.Random(7)
    words = " ".join(
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(17_000)
    )
    return {
        "one run of '!'": "!" * LIMIT,
        "emoji, no spaces": fill("\U0001f62d"),
        "right-to-left script": fill("\u0645\u0631\u062d\u0628\u0627 "),
        "NUL and control characters": fill("numb\x00\x01\x1b "),
        "blank lines": fill("\n \t"),
        "random words": words[:LIMIT],
        "a lay story, repeated": fill(
            "my lower back goes numb when i sit for ages and it goes away when i walk about. "
        ),
        "a clinical note, repeated": fill(
            "HPI: 54M with 3/7 LBP radiating to L leg, paraesthesia L5 dermatome. Denies saddle "
            "anaesthesia, bladder or bowel dysfunction. PMH: T2DM. O/E: SLR +ve at 40 deg. Plan: "
            "analgesia, physio, safety-net advice given.\n"
        ),
        "mention-dense (a finding every few words)": fill(
            "numb bum, cant pee, legs weak, back pain, foot drop, fever, tingling. "
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    default_pipeline()
    understand("warm up: numb back")
    gc.collect()
    gc.freeze()  # as the server does after warming up: the collector skips the language resources
    print("| text | characters | mentions | best s | worst s |\n|---|---|---|---|---|")
    worst_overall = 0.0
    for name, text in texts().items():
        times, mentions = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            found = understand(text)
            times.append(time.perf_counter() - start)
            mentions = len(found.reading.mentions) if found.reading else 0
        worst_overall = max(worst_overall, max(times))
        print(f"| {name} | {len(text):,} | {mentions:,} | {min(times):.2f} | {max(times):.2f} |")
    print(f"\nslowest reading: {worst_overall:.2f} s (target < 1 s on one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
