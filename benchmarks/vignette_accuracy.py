"""Triage and differential accuracy on the clinical vignettes in tests/vignettes/.

    python benchmarks/vignette_accuracy.py

Reports the measures symptom-checker studies use, so our figures can sit beside theirs:
urgency accuracy overall and per level, emergency sensitivity, under- and over-triage, the
share of emergencies advised self-care, and top-1 / top-3 cause accuracy.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    engine = default_engine()
    rows = []
    for path in sorted((ROOT / "tests" / "vignettes").glob("*.yaml")):
        for v in yaml.safe_load(path.read_text()):
            result = engine.assess(Case(answers=v["answers"], age=v.get("age"), sex=v.get("sex")))
            ids = [c.id for c in result.conditions]
            rows.append(
                (
                    UrgencyLevel(v["expected"]["urgency"]),
                    result.urgency,
                    ids.index(v["expected"]["cause"]) + 1,
                )
            )
    n = len(rows)
    per_level: Counter[UrgencyLevel] = Counter(e for e, _, _ in rows)
    correct_level: Counter[UrgencyLevel] = Counter(e for e, g, _ in rows if e == g)
    under = sum(1 for e, g, _ in rows if g < e)
    over = sum(1 for e, g, _ in rows if g > e)
    emergencies = per_level[UrgencyLevel.EMERGENCY]
    emergency_to_self_care = sum(
        1 for e, g, _ in rows if e is UrgencyLevel.EMERGENCY and g is UrgencyLevel.SELF_CARE
    )

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.1f}%)" if b else "-"

    table = [
        ("vignettes", str(n)),
        ("urgency accuracy", pct(sum(correct_level.values()), n)),
        *[
            (f"  accuracy, expected {lvl.value}", pct(correct_level[lvl], per_level[lvl]))
            for lvl in sorted(UrgencyLevel, reverse=True)
        ],
        ("emergency sensitivity", pct(correct_level[UrgencyLevel.EMERGENCY], emergencies)),
        ("under-triage (any level)", pct(under, n)),
        ("over-triage (any level)", pct(over, n)),
        ("emergencies advised self-care", pct(emergency_to_self_care, emergencies)),
        ("expected cause ranked first", pct(sum(1 for *_, r in rows if r == 1), n)),
        ("expected cause in top 3", pct(sum(1 for *_, r in rows if r <= 3), n)),
    ]
    width = max(len(k) for k, _ in table)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for k, val in table:
        print(f"| {k.ljust(width)} | {val} |")
    print(f"\nknowledge base {engine.kb.version} ({engine.kb.content_hash[:12]})")


if __name__ == "__main__":
    main()
