"""How free-text triage generalises to descriptions the team did not write.

    python benchmarks/text_generalisation.py CASES.jsonl [CASES.jsonl ...] [--details] [--by FIELD]

Each line of a cases file is a JSON object with `text`, `urgency` (the best level), `acceptable`
(every level a careful clinician would accept), `icd10` (code prefixes, any of which counts as the
right cause) and optionally `scope` (`seed`, `breadth`, `out_of_scope`), `style` and `red_flags`
(finding ids the text documents as present, current and about the patient).

Prints, per file and overall:
  * emergency sensitivity: cases labelled `emergency` that came out `emergency`;
  * under-triage: cases whose urgency is below every acceptable level;
  * acceptable urgency: cases whose urgency is one of the acceptable levels;
  * top-3 cause, for in-scope (`seed`) cases: one of the three likeliest causes has an ICD-10 code
    that starts with one of the case's prefixes;
  * red-flag findings recall and precision, where cases carry `red_flags` (scored on the
    red-flag ids the case writers were given, so newer red-flag findings are not "extra");
  * over-triage to emergency: cases for which `emergency` is not acceptable that came out
    `emergency`;
  * emergency cause named: emergencies where a suspected cause, or one of the three likeliest,
    has one of the case's ICD-10 prefixes.

The texts are never printed unless --details is given (then only the ids and what went wrong).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text import assess_text

#: The red-flag ids the case writers were given to label with.
CASE_FLAG_IDS = (
    "bilateral_leg_weakness",
    "sudden_severe_back_pain",
    "foot_drop",
    "saddle_anaesthesia",
    "bladder_dysfunction",
    "bowel_dysfunction",
    "gait_disturbance",
    "sensory_level",
    "ascending_weakness",
    "sexual_dysfunction",
    "fever",
    "cancer_history",
    "major_trauma",
    "tearing_pain",
)


@dataclass
class Tally:
    """Counts for one group of cases."""

    cases: int = 0
    emergencies: int = 0
    emergencies_found: int = 0
    under_triaged: int = 0
    acceptable: int = 0
    in_scope: int = 0
    top3: int = 0
    flags_expected: int = 0
    flags_found: int = 0
    flags_reported: int = 0
    flags_correct: int = 0
    not_emergencies: int = 0
    over_to_emergency: int = 0
    emergency_named: int = 0
    misses: list[str] = field(default_factory=list)

    def row(self, name: str) -> str:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} ({a / b:.2f})" if b else "–"

        return (
            f"| {name} | {self.cases} | {pct(self.emergencies_found, self.emergencies)} | "
            f"{pct(self.under_triaged, self.cases)} | {pct(self.acceptable, self.cases)} | "
            f"{pct(self.top3, self.in_scope)} | {pct(self.flags_found, self.flags_expected)} | "
            f"{pct(self.flags_correct, self.flags_reported)} | "
            f"{pct(self.over_to_emergency, self.not_emergencies)} | "
            f"{pct(self.emergency_named, self.emergencies)} |"
        )


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            case = json.loads(line)
            case.setdefault("id", f"{path.stem}:{n}")
            cases.append(case)
    return cases


def score(
    case: dict[str, Any], tallies: list[Tally], icd10: dict[str, list[str]], language: str | None = None
) -> None:
    result = assess_text(case["text"], language=language)
    got = result.urgency
    acceptable = [UrgencyLevel(u) for u in case["acceptable"]]
    top3 = [c.id for c in result.conditions[:3]]
    codes = [code for cid in top3 for code in icd10.get(cid, [])]
    cause_ok = any(code.startswith(p) for code in codes for p in case.get("icd10", []))
    named_codes = [code for cid in {*top3, *result.suspected} for code in icd10.get(cid, [])]
    named = any(code.startswith(p) for code in named_codes for p in case.get("icd10", []))
    in_scope = case.get("scope", "seed") == "seed" and bool(case.get("icd10"))
    present = {f.id for f in result.findings if f.present is True}
    expected_flags = set(case.get("red_flags") or [])
    flag_ids = set(case["_flag_vocabulary"])
    reported_flags = present & flag_ids if "red_flags" in case else set()
    for t in tallies:
        t.cases += 1
        if case["urgency"] == "emergency":
            t.emergencies += 1
            t.emergencies_found += got is UrgencyLevel.EMERGENCY
            t.emergency_named += named
        if UrgencyLevel.EMERGENCY not in acceptable:
            t.not_emergencies += 1
            t.over_to_emergency += got is UrgencyLevel.EMERGENCY
        under = all(got < a for a in acceptable)
        t.under_triaged += under
        t.acceptable += got in acceptable
        if in_scope:
            t.in_scope += 1
            t.top3 += cause_ok
        t.flags_expected += len(expected_flags)
        t.flags_found += len(expected_flags & present)
        t.flags_reported += len(reported_flags)
        t.flags_correct += len(reported_flags & expected_flags)
    miss = []
    if got not in acceptable:
        miss.append(f"urgency {got.value} not in {case['acceptable']}" + (" UNDER" if under else ""))
    if in_scope and not cause_ok:
        miss.append(f"cause {case['icd10']} not in top 3 {top3}")
    if expected_flags - present:
        miss.append(f"missed flags {sorted(expected_flags - present)}")
    if reported_flags - expected_flags:
        miss.append(f"extra flags {sorted(reported_flags - expected_flags)}")
    if miss:
        tallies[0].misses.append(f"{case['id']} [{case.get('style', '?')}]: " + "; ".join(miss))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL files of labelled cases")
    parser.add_argument("--details", action="store_true", help="list every miss (ids, no text)")
    parser.add_argument("--by", default="style", help="also break down by this field")
    parser.add_argument(
        "--lang", default=None, help="read the texts as this language (default: as the reader decides)"
    )
    args = parser.parse_args()
    kb = load_knowledge_base()
    icd10 = {cid: list(c.icd10) for cid, c in kb.conditions.items()}
    flag_ids = [fid for fid in CASE_FLAG_IDS if fid in kb.findings]
    overall = Tally()
    per_file: dict[str, Tally] = {}
    per_group: dict[str, Tally] = defaultdict(Tally)
    for path in args.files:
        tally = per_file.setdefault(f"{path.parent.name}/{path.name}", Tally())
        for case in load_cases(path):
            case["_flag_vocabulary"] = flag_ids
            score(case, [tally, overall, per_group[str(case.get(args.by, "?"))]], icd10, args.lang)
    print(
        "| cases | n | emergency sensitivity | under-triage | acceptable urgency | top-3 cause "
        "(in scope) | red-flag recall | red-flag precision | over-triage to emergency | "
        "emergency cause named |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, tally in per_file.items():
        print(tally.row(name))
    for name, tally in sorted(per_group.items()):
        print(tally.row(f"{args.by}={name}"))
    print(overall.row("all"))
    if args.details:
        for tally in per_file.values():
            print("\n".join(tally.misses))


if __name__ == "__main__":
    main()
