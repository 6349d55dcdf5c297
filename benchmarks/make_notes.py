"""Realistic clinical notes with an answer key, at any volume, for testing and timing `screen`.

    python benchmarks/make_notes.py 10000 -o notes.parquet [--seed 1] [--words 150-600]

Each note has sections (HPI, PMH, DH/SH, O/E, Imp, Plan), abbreviations, denials, past and family
history, and safety-netting, built from templates written for this project (no copied notes).
By construction each note knows its truth: the red flags written as present (`truth_red_flags`)
and the action written in the plan (`truth_action`). What those red flags require
(`truth_required`) is worked out from the true flags by the knowledge base, so the answer key
measures the reader, not the rules; `truth_discordant` follows. Output: Parquet, CSV or JSON
lines, by the file's suffix.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine

RANK = {"none": 0, "routine": 1, "urgent": 2, "emergency": 3}
CES = {"saddle_anaesthesia", "bladder_dysfunction", "bowel_dysfunction", "bilateral_leg_weakness"}

PRESENT = {
    "saddle_anaesthesia": [
        "reports numbness around the back passage since {when}",
        "says he cannot feel the paper when wiping",
        "altered sensation in the saddle area",
        "new perianal numbness",
        "c/o numb 'down below' since {when}",
    ],
    "bladder_dysfunction": [
        "difficulty passing urine since {when}",
        "new urinary retention, bladder scan {ml} ml",
        "has had to strain to pass urine and the stream is weak",
        "new urinary incontinence {when}",
        "cannot tell when bladder is full",
    ],
    "bowel_dysfunction": ["new faecal incontinence x1 {when}", "loss of bowel control overnight"],
    "bilateral_leg_weakness": [
        "both legs feel weak and gave way on the stairs",
        "bilateral leg weakness, worse since {when}",
    ],
    "cancer_history": [
        "PMH: breast ca {year}, mastectomy and chemo",
        "known prostate ca on hormone therapy",
        "PMH: lung cancer {year}",
    ],
    "fever": ["febrile, T 38.{d}", "T 38.{d}, rigors overnight"],
    "iv_drug_use": ["IVDU, last injected {when}", "injects heroin"],
}
DENIED = [
    "Denies saddle anaesthesia.",
    "No bladder or bowel dysfunction.",
    "BNO, PU normally.",
    "Nil red flags.",
    "No urinary retention or incontinence.",
    "No numbness when wiping.",
    "Denies fever or weight loss.",
    "No leg weakness.",
]
DISTRACTORS = [
    "Mother had breast cancer.",
    "FHx: father had spinal surgery.",
    "Worried about cauda equina after reading online.",
    "Was told by a friend to go to A&E if it got worse.",
]
PLANS = {
    "emergency": [
        "Referred to ED for emergency MRI.",
        "Discussed with spinal on-call, accepted, sent to ED.",
        "999 ambulance called, transferred to A&E.",
        "Sent to ED for emergency MRI tonight.",
    ],
    "urgent": ["Urgent MRI requested.", "Review tomorrow in clinic.", "Urgent referral to spinal team."],
    "routine": [
        "Naproxen 500 mg bd, physio referral, review 4/52.",
        "Advice re keeping active, analgesia, routine review 6/52.",
        "Co-codamol and physio exercises.",
    ],
}
SAFETY_NET = [
    "Safety-netted: attend A&E if develops numbness down below or bladder symptoms.",
    "CES card given; advised to go to ED if any saddle numbness.",
    "S/N given re red flags.",
]
HPI = [
    "{age}{sex} with {days}/7 hx of LBP radiating to the {side} leg.",
    "{age}{sex} presents with low back pain for {days} days after lifting at work.",
    "{age}{sex}, {days} day history of back pain and {side}-sided sciatica.",
    "Seen with {days}/7 of lower back pain, worse on bending.",
]
FILLER = [
    "Pain {score}/10, worse on sitting and coughing.",
    "Taking paracetamol with little effect.",
    "Sleeping poorly because of the pain.",
    "Works as a {job}; off work since {when}.",
    "No recent trauma.",
    "Walks with a stick since the pain began.",
    "SH: lives with partner, independent, non-smoker.",
    "DH: nil regular. NKDA.",
    "PMH: HTN, T2DM (diet controlled).",
    "Pain eased a little with heat and gentle walking.",
    "Had a similar episode {years} years ago which settled with physio.",
    "O/E: walks in comfortably, lumbar flexion limited to mid-shin.",
    "SLR {slr} deg on the {side}, crossed SLR negative.",
    "Power 5/5 throughout the lower limbs, reflexes present and symmetrical.",
    "Sensation to light touch intact in L2-S1 dermatomes.",
    "Abdomen soft, non-tender, no pulsatile mass.",
    "Obs: HR {hr}, BP {bp}/80, RR 16, sats 98% on air.",
]
JOBS = ["nurse", "builder", "teacher", "delivery driver", "cleaner", "office worker", "farmer"]


def fill(template: str, rng: random.Random) -> str:
    return template.format(
        age=rng.randint(19, 88),
        sex=rng.choice("MF"),
        days=rng.randint(1, 10),
        side=rng.choice(["left", "right", "L", "R"]),
        when=rng.choice(["yesterday", "this morning", "last night", "2 days ago"]),
        ml=rng.randint(500, 1100),
        year=rng.randint(2005, 2022),
        d=rng.randint(1, 9),
        score=rng.randint(3, 9),
        job=rng.choice(JOBS),
        years=rng.randint(2, 15),
        slr=rng.randint(30, 80),
        hr=rng.randint(60, 110),
        bp=rng.randint(110, 160),
    )


def required_for(flags: list[str]) -> str:
    """What the true red flags require, per the knowledge base's rules."""
    # every note is about back pain, so the rules see it too
    assessment = default_engine().assess(Case(answers=dict.fromkeys([*flags, "back_pain"], True)))
    levels = [r.urgency for r in assessment.red_flags if r.urgency >= UrgencyLevel.URGENT]
    return max(levels).value if levels else "none"


def make_note(n: int, rng: random.Random, words: tuple[int, int]) -> dict[str, object]:
    roll = rng.random()
    if roll < 0.3:
        flags = rng.sample(sorted(CES), rng.randint(1, 2))
    elif roll < 0.5:
        flags = [rng.choice(["cancer_history", "fever"])] + (["iv_drug_use"] if rng.random() < 0.3 else [])
    else:
        flags = []
    required = required_for(flags)
    if required == "none":
        action = "routine"
    elif rng.random() < 0.6:
        action = required
    else:
        action = rng.choice([a for a in ("routine", "urgent") if RANK[a] < RANK[required]])
    hpi = [fill(rng.choice(HPI), rng)] + [fill(rng.choice(PRESENT[f]), rng) + "." for f in flags]
    target = rng.randint(*words)
    body: list[str] = []
    denials = [d for d in DENIED if not any(word in d.lower() for word in _denial_words(flags))]
    body += rng.sample(denials, k=min(len(denials), rng.randint(1, 3)))
    if rng.random() < 0.25:
        body.append(rng.choice(DISTRACTORS))
    while sum(len(s.split()) for s in hpi + body) < target - 30:
        body.append(fill(rng.choice(FILLER), rng))
    impression = (
        "?CES"
        if set(flags) & CES
        else "?discitis"
        if "fever" in flags
        else "?metastatic disease"
        if "cancer_history" in flags
        else "Mechanical LBP"
    )
    plan = [rng.choice(PLANS[action])] + ([rng.choice(SAFETY_NET)] if rng.random() < 0.5 else [])
    text = (
        "HPI: "
        + " ".join(hpi + body[: len(body) // 2])
        + "\n"
        + "O/E: "
        + " ".join(body[len(body) // 2 :])
        + "\n"
        + f"Imp: {impression}\n"
        + "Plan: "
        + " ".join(plan)
    )
    return {
        "id": f"g{n:07d}",
        "text": text,
        "truth_red_flags": sorted(flags),
        "truth_required": required,
        "truth_action": action,
        "truth_discordant": RANK[action] < RANK[required],
    }


def _denial_words(flags: list[str]) -> list[str]:
    """Denials that would contradict the note's own red flags are left out."""
    words = {
        "saddle_anaesthesia": ["saddle", "wiping", "red flags"],
        "bladder_dysfunction": ["bladder", "urin", "pu ", "red flags"],
        "bowel_dysfunction": ["bowel", "bno", "red flags"],
        "bilateral_leg_weakness": ["weakness", "red flags"],
        "fever": ["fever", "red flags"],
        "cancer_history": ["red flags"],
        "iv_drug_use": ["red flags"],
    }
    return [w for f in flags for w in words[f]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words", default="150-600", help="range of words per note")
    args = parser.parse_args()
    low, high = (int(x) for x in args.words.split("-"))
    rng = random.Random(args.seed)
    rows = [make_note(n, rng, (low, high)) for n in range(args.count)]
    notes = pa.Table.from_pylist(rows)
    target = str(args.output).replace("'", "''")
    fmt = {".parquet": "FORMAT parquet", ".csv": "FORMAT csv, HEADER true"}.get(
        args.output.suffix, "FORMAT json"
    )
    with duckdb.connect() as con:
        con.register("notes", notes)
        con.execute(f"COPY (SELECT * FROM notes) TO '{target}' ({fmt})")
    print(f"{len(rows)} notes -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
