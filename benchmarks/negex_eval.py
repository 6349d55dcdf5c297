"""Negation and temporality against the physician-annotated NegEx/ConText test set.

    python benchmarks/negex_eval.py [--path DIR]

Reads `negex_context_testset.tsv` from ../shared/eval/negex/ beside the repository (or --path,
or $BACKTRIAGE_NEGEX_DIR); the set is never copied into the project. Each sentence has one
target concept; we ask backtriage's ConText (`backtriage.text.context_of`, the function the
pipeline uses) and medspaCy's default pipeline (`medspacy.load()`: PyRuSH, default ConText
rules) about the same span, and print precision, recall and F1 for "negated" and "historical"
side by side. Published GenNegEx v1.2 on this set: negation recall 0.959, precision 0.933.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILE = "negex_context_testset.tsv"


@dataclass
class Row:
    sentence: str
    concept: str
    negated: bool
    historical: bool


def find_dataset(explicit: str | None) -> Path | None:
    candidates = [
        explicit,
        os.environ.get("BACKTRIAGE_NEGEX_DIR"),
        str(ROOT.parent / "shared" / "eval" / "negex"),
    ]
    for c in candidates:
        if c and (Path(c) / FILE).is_file():
            return Path(c) / FILE
    return None


def load(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as fh:
        return [
            Row(
                r["sentence"],
                r["concept"].strip(),
                r["negation"] == "Negated",
                r["temporality"] == "Historical",
            )
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def locate(sentence: str, concept: str) -> tuple[int, int] | None:
    pattern = r"\W+".join(re.escape(w) for w in concept.split())
    m = re.search(pattern, sentence, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def ours() -> Callable[[str, str], tuple[bool, bool]]:
    from backtriage.text.context import context_of
    from backtriage.text.pipeline import default_pipeline

    pipeline = default_pipeline()

    def judge(sentence: str, concept: str) -> tuple[bool, bool]:
        a = context_of(sentence, concept, pipeline=pipeline)
        return a.negated, a.historical

    return judge


def medspacy_default() -> Callable[[str, str], tuple[bool, bool]]:
    import medspacy
    from loguru import logger

    logger.disable("PyRuSH")  # it logs every sentence at DEBUG level
    nlp = medspacy.load()
    context = nlp.get_pipe("medspacy_context")
    before = [
        proc
        for name, proc in nlp.pipeline
        if name != "medspacy_context" and name != "medspacy_target_matcher"
    ]

    def judge(sentence: str, concept: str) -> tuple[bool, bool]:
        doc = nlp.make_doc(sentence)
        for proc in before:
            doc = proc(doc)
        where = locate(sentence, concept)
        assert where is not None
        doc.ents = [doc.char_span(*where, label="TARGET", alignment_mode="expand")]
        doc = context(doc)
        ent = doc.ents[0]
        return bool(ent._.is_negated), bool(ent._.is_historical)

    return judge


def score(rows: list[Row], judge: Callable[[str, str], tuple[bool, bool]]) -> dict[str, float]:
    counts = {"neg": [0, 0, 0], "hist": [0, 0, 0]}  # tp, fp, fn
    start = time.perf_counter()
    for r in rows:
        neg, hist = judge(r.sentence, r.concept)
        for key, got, gold in (("neg", neg, r.negated), ("hist", hist, r.historical)):
            if got and gold:
                counts[key][0] += 1
            elif got:
                counts[key][1] += 1
            elif gold:
                counts[key][2] += 1
    out: dict[str, float] = {"seconds": time.perf_counter() - start}
    for key, (tp, fp, fn) in counts.items():
        p = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        out[f"{key}_p"], out[f"{key}_r"] = p, rc
        out[f"{key}_f1"] = 2 * p * rc / (p + rc) if p + rc else 0.0
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="folder holding negex_context_testset.tsv")
    args = parser.parse_args()
    path = find_dataset(args.path)
    if path is None:
        print("NegEx test set not found (looked beside the repository in shared/eval/negex); skipping.")
        return 0
    rows = [r for r in load(path) if locate(r.sentence, r.concept) is not None]
    skipped = len(load(path)) - len(rows)
    results = {"backtriage ConText": score(rows, ours()), "medspaCy default": score(rows, medspacy_default())}
    print(f"{len(rows)} sentences ({skipped} skipped: concept not found in its sentence)\n")
    header = (
        "| system | negation P | negation R | negation F1 | historical P | historical R "
        "| historical F1 | seconds |"
    )
    print(header)
    print("|" + "---|" * 8)
    for name, s in results.items():
        print(
            f"| {name} | {s['neg_p']:.3f} | {s['neg_r']:.3f} | {s['neg_f1']:.3f} | "
            f"{s['hist_p']:.3f} | {s['hist_r']:.3f} | {s['hist_f1']:.3f} | {s['seconds']:.1f} |"
        )
    print("| GenNegEx v1.2 (published) | 0.933 | 0.959 | 0.946 | - | - | - | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
