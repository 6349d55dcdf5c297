"""The screening report: an excerpt of the note around each piece of evidence, bounded however
long the note; a seeded random sample of the notes without red flags; the knowledge base's names
instead of ids. Built from hand-made rows, so no reader is loaded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from backtriage.batch.embedded import finish_from
from backtriage.batch.report import AROUND, excerpt, write_report
from backtriage.batch.schema import SLIM_SCHEMA
from backtriage.batch.sources import NoteSource
from backtriage.interfaces.cli import app
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base

runner = CliRunner()
FAR = "FARAWAY-TEXT "  # never within AROUND characters of any evidence
PAD = FAR * 800  # about 10,000 characters
FLAGGED = f"{PAD}Seen today. 54M, numb saddle area since this morning. Plan: physio.{PAD}"
SPAN = (FLAGGED.index("numb saddle area"), FLAGGED.index("numb saddle area") + len("numb saddle area"))
ACTION = (FLAGGED.index("physio"), FLAGGED.index("physio") + len("physio"))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def _row(note_id: str, flagged: bool, **changes: Any) -> dict[str, Any]:
    evidence = [
        {"finding": "saddle_anaesthesia", "words": "numb saddle area", "start": SPAN[0], "end": SPAN[1]}
    ]
    actions = [{"level": "routine", "words": "physio", "start": ACTION[0], "end": ACTION[1]}]
    row = {
        "id": note_id,
        "urgency": "emergency" if flagged else "self_care",
        "red_flags": ["saddle_anaesthesia"] if flagged else [],
        "evidence": json.dumps(evidence if flagged else []),
        "required": "emergency" if flagged else "none",
        "alert_rules": ["ces_saddle_change"] if flagged else [],
        "note_kind": "message",
        "action": "routine",
        "action_evidence": json.dumps(actions if flagged else []),
        "discordant": flagged,
        "kb_version": "1",
        "text_version": "1",
        "error": None,
    }
    return {**row, **changes}


def _run(tmp_path: Path, count: int = 60, suffix: str = ".parquet") -> tuple[Path, Path]:
    """Notes n0..n{count-1} (every tenth with a red flag, n5 unreadable) and their rows."""
    notes, rows = [], []
    for i in range(count):
        flagged = i % 10 == 0
        text = FLAGGED if flagged else f"Note {i} begins here. Back ache for a week, no red flags. {PAD}"
        notes.append({"id": f"n{i}", "text": text})
        rows.append(
            _row(f"n{i}", flagged, **({"error": "could not read", "urgency": None} if i == 5 else {}))
        )
    source = tmp_path / "notes.jsonl"
    source.write_text("".join(json.dumps(n) + "\n" for n in notes))
    part = tmp_path / "part.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=SLIM_SCHEMA), part)
    output = tmp_path / f"flags{suffix}"
    finish_from([part], output)
    return source, output


def _sampled(html: str) -> list[str]:
    section = html[html.index("random sample to check") :]
    return re.findall(r"<tr><td>(n\d+)<", section)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_each_piece_of_evidence_is_shown_in_its_note_and_no_more_of_it(
    tmp_path: Path, suffix: str, kb: KnowledgeBase
) -> None:
    source, output = _run(tmp_path, suffix=suffix)
    report = tmp_path / "report.html"
    write_report(output, report, notes=NoteSource([source]), kb=kb)
    html = report.read_text()
    before, words, after = excerpt(FLAGGED, *SPAN)
    assert f"{before}<mark class='flag'>{words}</mark>{after}" in html
    assert "54M, <mark class='flag'>numb saddle area</mark> since this morning" in html
    assert "<mark class='act'>physio</mark>" in html
    # Each excerpt is a bounded window: the text far from the evidence is not in the page.
    assert len(before) <= AROUND + 1 and len(after) <= AROUND + 1
    for flagged in re.findall(r"<tr><td>(n\d+)<", html[: html.index("random sample to check")]):
        assert int(flagged[1:]) % 10 == 0
    assert html.count(FAR) < 60 * 30  # the sampled beginnings, not whole notes
    assert len(html) < 100_000


def test_ids_become_the_knowledge_base_names(tmp_path: Path, kb: KnowledgeBase) -> None:
    source, output = _run(tmp_path)
    report = tmp_path / "report.html"
    write_report(output, report, notes=NoteSource([source]), kb=kb)
    html = report.read_text()
    rule = next(r.name for r in kb.rules if r.id == "ces_saddle_change")
    assert kb.findings["saddle_anaesthesia"].label in html and rule in html
    assert "self-care" in html and "note without sections" in html
    for snake in ("saddle_anaesthesia", "ces_saddle_change", "self_care"):
        assert snake not in html, snake


def test_the_unflagged_sample_is_random_reproducible_and_sized(tmp_path: Path, kb: KnowledgeBase) -> None:
    source, output = _run(tmp_path, count=200)

    def sample(seed: int, size: int = 20) -> list[str]:
        report = tmp_path / f"r{seed}-{size}.html"
        write_report(output, report, notes=NoteSource([source]), seed=seed, unflagged=size, kb=kb)
        return _sampled(report.read_text())

    first = sample(1)
    assert len(first) == 20 and first == sample(1)  # the same seed, the same notes
    assert first != sample(2)  # another seed, another sample
    assert first == sorted(first, key=lambda n: int(n[1:]))  # listed in input order
    unreadable_or_flagged = {"n5"} | {f"n{i}" for i in range(0, 200, 10)}
    assert not set(first) & unreadable_or_flagged
    assert len(sample(1, 5)) == 5 and sample(1, 0) == []
    assert len(sample(1, 1000)) == 200 - 20 - 1  # every readable note without a red flag
    report = (tmp_path / "r1-20.html").read_text()
    assert "Note 1" in report or "begins here" in report  # the beginning of each sampled note


def test_without_the_notes_the_words_are_shown_and_the_page_says_why(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    _, output = _run(tmp_path)
    report = tmp_path / "report.html"
    write_report(output, report, kb=kb)
    html = report.read_text()
    assert "<mark class='flag'>numb saddle area</mark></span>" in html  # the words alone
    assert "since this morning" not in html and "screen-report --notes" in html


def test_notes_that_are_not_the_run_s_give_no_excerpt(tmp_path: Path, kb: KnowledgeBase) -> None:
    source, output = _run(tmp_path)
    shuffled = tmp_path / "other.jsonl"
    lines = source.read_text().splitlines()
    shuffled.write_text("\n".join(lines[1:] + lines[:1]) + "\n")  # every note one place earlier
    report = tmp_path / "report.html"
    write_report(output, report, notes=NoteSource([shuffled]), kb=kb)
    html = report.read_text()
    assert "since this morning" not in html and "begins here" not in html  # no other note's text
    assert "has another id" in html


def test_screen_report_takes_the_notes_and_refuses_a_missing_file(tmp_path: Path) -> None:
    source, output = _run(tmp_path)
    report = tmp_path / "again.html"
    result = runner.invoke(
        app, ["screen-report", str(output), "-o", str(report), "--notes", str(source), "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "since this morning" in report.read_text()
    missing = runner.invoke(app, ["screen-report", str(output), "--notes", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr and "Traceback" not in missing.output


@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        ("numb bum", 0, 4, ("", "numb", " bum")),
        ("a" * 100 + "numb" + "b" * 100, 100, 104, ("…" + "a" * AROUND, "numb", "b" * AROUND + "…")),
        ("line one\n\n\tnumb\x07 bum\r\n", 11, 15, ("line one ", "numb", " bum ")),
        ("short", 3, 99, ("sho", "rt", "")),  # a span past the end is cut to the note
    ],
)
def test_an_excerpt_is_a_bounded_window_with_plain_spaces(
    text: str, start: int, end: int, expected: tuple[str, str, str]
) -> None:
    assert excerpt(text, start, end) == expected


def test_a_huge_piece_of_evidence_is_cut_in_the_middle() -> None:
    _, words, _ = excerpt("x" * 10_000, 0, 10_000)
    assert len(words) < 250 and " … " in words
