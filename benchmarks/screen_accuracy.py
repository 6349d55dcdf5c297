"""How well `screen` finds documented red flags, documented actions and discordance, on notes
with an answer key.

    python benchmarks/screen_accuracy.py NOTES [--errors]

NOTES is JSON lines or Parquet with `id`, `text` and the truth, either as written by
`make_notes.py` (`truth_red_flags`, `truth_required`, `truth_action`, `truth_discordant`) or
as in the blind notes (`red_flags`, `required`, `action`, `discordant`). Red flags are compared
as (note, flag) pairs over the flags the answer key uses; `required` and `action` as levels;
`discordant` per note. `--errors` lists every disagreement (ids and labels only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import duckdb

from backtriage.batch.screen import NoteScreener

KEYS = {
    "truth_red_flags": "red_flags",
    "truth_required": "required",
    "truth_action": "action",
    "truth_discordant": "discordant",
}


def load(path: Path) -> list[dict[str, Any]]:
    scan = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_json_auto('{path}')"
    with duckdb.connect() as con:
        relation = con.sql(f"SELECT * FROM {scan}")
        rows = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    return [{KEYS.get(k, k): v for k, v in row.items()} for row in rows]


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.3f})" if total else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notes", type=Path)
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args()
    notes = load(args.notes)
    screener = NoteScreener()
    vocabulary = {f for n in notes for f in n["red_flags"]}
    tp = fp = fn = 0
    counts = {"required": 0, "action": 0, "disc_tp": 0, "disc_fp": 0, "disc_fn": 0, "any_tp": 0, "any_fn": 0}
    problems = []
    for note in notes:
        got = screener.screen(str(note["id"]), note["text"])
        found = set(got["red_flags"]) & vocabulary
        truth = set(note["red_flags"])
        tp, fp, fn = tp + len(found & truth), fp + len(found - truth), fn + len(truth - found)
        if truth:
            counts["any_tp" if found else "any_fn"] += 1
        counts["required"] += got["required"] == note["required"]
        counts["action"] += got["action"] == note["action"]
        if note["discordant"]:
            counts["disc_tp" if got["discordant"] else "disc_fn"] += 1
        elif got["discordant"]:
            counts["disc_fp"] += 1
        if found != truth or got["action"] != note["action"] or got["discordant"] != note["discordant"]:
            problems.append(
                f"{note['id']}: flags {sorted(found)} vs {sorted(truth)}; action {got['action']} vs "
                f"{note['action']}; required {got['required']} vs {note['required']}"
            )
    n = len(notes)
    disc_true = counts["disc_tp"] + counts["disc_fn"]
    print(f"{args.notes.name}: {n} notes\n\n| measure | value |\n|---|---|")
    print(f"| red flag documented: sensitivity (note, flag) | {rate(tp, tp + fn)} |")
    print(f"| red flag documented: precision (note, flag) | {rate(tp, tp + fp)} |")
    print(f"| notes with a red flag found | {rate(counts['any_tp'], counts['any_tp'] + counts['any_fn'])} |")
    print(f"| required level right | {rate(counts['required'], n)} |")
    print(f"| documented action right | {rate(counts['action'], n)} |")
    print(f"| discordant: sensitivity | {rate(counts['disc_tp'], disc_true)} |")
    print(f"| discordant: precision | {rate(counts['disc_tp'], counts['disc_tp'] + counts['disc_fp'])} |")
    if args.errors:
        print("\n" + "\n".join(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
