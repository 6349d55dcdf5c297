"""Speed of the whole free-text assessment, beside medspaCy's default pipeline.

    python benchmarks/bench_text.py [--texts 2000] [--jsonl 10000]

Both pipelines run the same concept vocabulary, pattern lexicon (target rules) and ConText rules,
and the same post-processing and reasoning; the baseline is `medspacy.load()` (PyRuSH sentence splitter,
medspaCy tokenizer, target matcher writing `doc.ents`, ConText). The corpus is the text
vignettes, and the same texts joined to about 100 words for the latency target. Prints a table.
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

ROOT = Path(__file__).resolve().parent.parent


def corpus() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "text_vignettes").glob("*.yaml")):
        texts.extend(v["text"] for v in yaml.safe_load(path.read_text(encoding="utf-8")))
    return texts


def hundred_word_texts(texts: list[str], n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        words: list[str] = []
        while len(words) < 100:
            words.extend(rng.choice(texts).split())
        out.append(" ".join(words[:100]))
    return out


def baseline_pipeline():  # type: ignore[no-untyped-def]
    """medspaCy's default pipeline carrying our target and ConText rules."""
    import medspacy
    from loguru import logger
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule
    from spacy.language import Language

    from backtriage.text.concepts import ConceptReader
    from backtriage.text.pipeline import SPAN_GROUP, TextPipeline
    from backtriage.text.resources import load_text_resources

    logger.disable("PyRuSH")
    res = load_text_resources()
    nlp = medspacy.load()
    nlp.get_pipe("medspacy_target_matcher").add(
        [
            TargetRule(literal=label, category=label, pattern=p)
            for label, patterns in res.targets.items()
            for p in patterns
        ]
    )
    nlp.get_pipe("medspacy_context").add(
        [
            ConTextRule(
                literal=r.literal,
                category=r.category,
                direction=r.direction,
                pattern=r.pattern,
                max_scope=r.max_scope,
                terminated_by=set(r.terminated_by or ()),
            )
            for r in res.context_rules
            if r.category
            in (
                "NEGATED_EXISTENCE",
                "POSSIBLE_EXISTENCE",
                "HISTORICAL",
                "HYPOTHETICAL",
                "FAMILY",
                "CONJ",
                "PSEUDO",
            )
        ]
    )

    # The concept reader runs here too, so both pipelines carry the same vocabulary.
    reader = ConceptReader(res.concepts, nlp)

    if not Language.has_factory("bench_ents_to_group"):

        @Language.component("bench_ents_to_group")
        def ents_to_group(doc):  # type: ignore[no-untyped-def]
            hits = reader.hits(doc)
            doc.spans[SPAN_GROUP] = reader.drop_excluded(list(doc.ents) + reader.mentions(doc, hits), hits)
            return doc

    nlp.add_pipe("bench_ents_to_group", before="medspacy_context")
    return TextPipeline(nlp=nlp, resources=res, concepts=reader)


def time_it(texts: list[str], pipeline=None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from backtriage.text import assess_text

    for t in texts[:20]:
        assess_text(t, pipeline=pipeline)
    times = []
    start = time.perf_counter()
    for t in texts:
        t0 = time.perf_counter_ns()
        assess_text(t, pipeline=pipeline)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    wall = time.perf_counter() - start
    ordered = sorted(times)
    return {
        "n": len(texts),
        "per_s": len(texts) / wall,
        "p50": statistics.median(times),
        "p99": ordered[int(0.99 * (len(ordered) - 1))],
    }


def jsonl_run(texts: list[str], n: int, workers: int = 1) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.jsonl"
        with path.open("w") as fh:
            for i in range(n):
                fh.write(json.dumps({"id": i, "text": texts[i % len(texts)]}) + "\n")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "backtriage", "assess", "--jsonl", str(path), "--workers", str(workers)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"jsonl run failed: {proc.stderr.strip()}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="texts per timed run")
    parser.add_argument("--jsonl", type=int, default=10_000, help="texts for the --jsonl run")
    args = parser.parse_args()

    from backtriage.text.pipeline import default_pipeline

    base = corpus()
    mixed = [base[i % len(base)] for i in range(args.texts)]
    hundred = hundred_word_texts(base, args.texts)
    ours_mixed = time_it(mixed, default_pipeline())
    ours_100 = time_it(hundred, default_pipeline())
    baseline = baseline_pipeline()
    theirs_mixed = time_it(mixed, baseline)
    theirs_100 = time_it(hundred, baseline)
    workers = min(4, os.cpu_count() or 1)
    wall = jsonl_run(base, args.jsonl) if args.jsonl else 0.0
    wall_parallel = jsonl_run(base, args.jsonl, workers) if workers > 1 and args.jsonl else wall

    rows = [
        ("backtriage, vignette texts", ours_mixed),
        ("medspaCy default, vignette texts", theirs_mixed),
        ("backtriage, 100-word texts", ours_100),
        ("medspaCy default, 100-word texts", theirs_100),
    ]
    print("| pipeline (whole free-text assessment) | texts | texts/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['n']} | {r['per_s']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")
    print(
        f"\nthroughput ratio (backtriage / medspaCy default): vignette texts "
        f"{ours_mixed['per_s'] / theirs_mixed['per_s']:.1f}x, 100-word texts "
        f"{ours_100['per_s'] / theirs_100['per_s']:.1f}x (target >= 5x)"
    )
    print(f"p50 for a 100-word text: {ours_100['p50']:.2f} ms (target < 5 ms)")
    if args.jsonl:
        print(
            f"CLI assess --jsonl over {args.jsonl:,} texts: {wall:.1f} s wall including start-up "
            f"with 1 process, {wall_parallel:.1f} s with --workers {workers} (target < 30 s)"
        )
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
