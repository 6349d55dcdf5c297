"""Free-text understanding and triage on the text vignettes in tests/text_vignettes/.

    python benchmarks/text_accuracy.py [--details]

For each narrative (lay words or clinical note) reports: urgency accuracy, emergency
sensitivity, under-triage, top-3 cause accuracy, finding recall (expected present / absent
findings read correctly), 'not present' violations (hedged, hypothetical, past or other people's
mentions counted as present), and whether different phrasings of the same case agree.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import yaml

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text

ROOT = Path(__file__).resolve().parent.parent


def load() -> list[dict]:  # type: ignore[type-arg]
    cases = []
    for path in sorted((ROOT / "tests" / "text_vignettes").glob("*.yaml")):
        cases.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every miss")
    args = parser.parse_args()
    cases = load()
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    groups: dict[str, set[str]] = defaultdict(set)
    misses: list[str] = []
    for v in cases:
        exp = v["expected"]
        result = assess_text(v["text"])
        got = result.urgency
        want = UrgencyLevel(exp["urgency"])
        answers = {f.id: f.present for f in result.findings}
        top3 = [c.id for c in result.conditions[:3]]
        style = v.get("style", "?")
        for key in ("all", style):
            stats[f"urgency {key}"][0] += got == want
            stats[f"urgency {key}"][1] += 1
            stats[f"top3 {key}"][0] += exp["cause"] in top3
            stats[f"top3 {key}"][1] += 1
        if want is UrgencyLevel.EMERGENCY:
            stats["emergency sensitivity"][0] += got is UrgencyLevel.EMERGENCY
            stats["emergency sensitivity"][1] += 1
        stats["under-triage"][0] += got < want
        stats["under-triage"][1] += 1
        for f in exp.get("present", []):
            ok = answers.get(f) is True
            stats["findings present read"][0] += ok
            stats["findings present read"][1] += 1
            if not ok:
                misses.append(f"{v['id']}: missed present {f}")
        for f in exp.get("absent", []):
            ok = answers.get(f) is False
            stats["findings absent read"][0] += ok
            stats["findings absent read"][1] += 1
            if not ok:
                misses.append(f"{v['id']}: missed absent {f} (got {answers.get(f)})")
        for f in exp.get("not_present", []):
            ok = answers.get(f) is not True
            stats["not-present respected"][0] += ok
            stats["not-present respected"][1] += 1
            if not ok:
                misses.append(f"{v['id']}: {f} counted present but should not be")
        if got != want:
            misses.append(f"{v['id']}: urgency {got.value}, expected {want.value}")
        if exp["cause"] not in top3:
            misses.append(f"{v['id']}: cause {exp['cause']} not in top 3 {top3}")
        if v.get("group"):
            groups[v["group"]].add(got.value)
    consistent = sum(1 for g in groups.values() if len(g) == 1)
    print("| measure | value |\n|---|---|")
    for key in sorted(stats):
        ok, n = stats[key]
        shown = f"{ok}/{n}" if key != "under-triage" else f"{ok} of {n}"
        print(f"| {key} | {shown} ({100 * ok / n:.1f}%) |")
    print(f"| phrasing groups with one urgency | {consistent}/{len(groups)} |")
    if args.details:
        print("\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
