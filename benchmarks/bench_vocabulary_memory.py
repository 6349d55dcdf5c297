"""Memory of a process reading words it has never met (a server's worst case for spaCy's
vocabulary): the shipped pipeline is rebuilt every `MAX_NEW_STRINGS` new strings and its memory
handed back, so the process should stay within twice its start.

    python benchmarks/bench_vocabulary_memory.py [--seconds 300] [--words-per-text 50]

Prints, every 100,000 new words and at the end: words read, resident memory (MiB), pipeline
rebuilds, and the ratio to the memory at the start. Reads in this process (no server), Linux only.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import time

from backtriage.text import pipeline, understand


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc (Linux only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--words-per-text", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(0)
    understand("warm up: numb back after sitting")
    start = peak = rss_mib()
    words = rebuilds = 0
    current = pipeline.default_pipeline()
    print("| new words | RSS MiB | rebuilds | x start |\n|---|---|---|---|")
    print(f"| 0 | {start:.0f} | 0 | 1.00 |")
    began = time.monotonic()
    while time.monotonic() - began < args.seconds:
        letters = (
            rng.choices(string.ascii_lowercase, k=rng.randint(5, 10)) for _ in range(args.words_per_text)
        )
        understand(" ".join("".join(w) for w in letters) + " numb back")
        words += args.words_per_text
        if pipeline.default_pipeline() is not current:
            current, rebuilds = pipeline.default_pipeline(), rebuilds + 1
        peak = max(peak, rss_mib())
        if words % 100_000 < args.words_per_text:
            print(f"| {words:,} | {rss_mib():.0f} | {rebuilds} | {rss_mib() / start:.2f} |", flush=True)
    end = rss_mib()
    print(f"| {words:,} (end) | {end:.0f} | {rebuilds} | {end / start:.2f} |")
    print(f"\npeak {peak:.0f} MiB = {peak / start:.2f} x start ({start:.0f} MiB), {args.seconds:.0f} s")


if __name__ == "__main__":
    main()
