"""`backtriage screen` end to end: output formats, exit codes, and a run killed half way that
resumes without losing or repeating a note."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from backtriage.interfaces.cli import app

runner = CliRunner()
NOTES = [
    "54M LBP 3/7, numb saddle area and retention since today. Plan: analgesia, physio.",
    "LBP 2 weeks. Denies saddle anaesthesia, BNO, PU normal. Plan: naproxen, physio.",
    "Breast ca 2019. New thoracic back pain. Plan: urgent MRI requested.",
    "Cannot feel the paper when wiping. Plan: sent to ED for emergency MRI.",
]


def _notes(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"n{i}", "text": NOTES[i % 4]}) + "\n" for i in range(count)))
    return path


def test_screen_writes_one_row_per_note_in_each_format(tmp_path: Path) -> None:
    notes = _notes(tmp_path / "notes.jsonl", 8)
    with notes.open("a") as fh:
        fh.write("{not json\n")
    for suffix in (".parquet", ".csv", ".jsonl"):
        out = tmp_path / f"flags{suffix}"
        result = runner.invoke(
            app, ["screen", str(notes), "-o", str(out), "--workers", "1", "--batch-size", "3"]
        )
        assert result.exit_code == 4, result.output  # one unreadable line: reported, not dropped
        assert "9 notes" in result.stdout and "1 unreadable" in result.stdout
        read = {".parquet": "read_parquet", ".csv": "read_csv", ".jsonl": "read_json_auto"}[suffix]
        rows = duckdb.sql(f"SELECT id, discordant, error FROM {read}('{out}')").fetchall()
        assert [r[0] for r in rows] == [f"n{i}" for i in range(8)] + ["notes.jsonl:9"]
        assert rows[0][1] is True or rows[0][1] == "true"
        assert not (tmp_path / f"flags{suffix}.parts").exists()
    assert (tmp_path / "flags.parquet").stat().st_size / 9 < 1024  # slim: under 1 KB a note


def test_bad_input_exits_2(tmp_path: Path) -> None:
    assert (
        runner.invoke(
            app, ["screen", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.parquet")]
        ).exit_code
        == 2
    )
    notes = _notes(tmp_path / "n.jsonl", 2)
    assert runner.invoke(app, ["screen", str(notes), "-o", str(tmp_path / "o.xlsx")]).exit_code == 2


def test_a_killed_run_resumes_and_loses_nothing(tmp_path: Path) -> None:
    notes = _notes(tmp_path / "notes.jsonl", 400)
    out = tmp_path / "flags.parquet"
    command = [sys.executable, "-m", "backtriage", "screen", str(notes), "-o", str(out)]
    command += ["--workers", "1", "--batch-size", "20"]
    first = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    parts = tmp_path / "flags.parquet.parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = len(list(parts.glob("part-*.parquet")))
    assert 3 <= done_before < 20 and not out.exists()
    second = subprocess.run(command, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    ids = [r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet('{out}')").fetchall()]
    assert ids == [f"n{i}" for i in range(400)]  # every note once, in input order


def test_the_report_is_self_contained_and_puts_discordant_notes_first(tmp_path: Path) -> None:
    notes = _notes(tmp_path / "notes.jsonl", 8)
    out, report = tmp_path / "flags.csv", tmp_path / "report.html"
    result = runner.invoke(
        app, ["screen", str(notes), "-o", str(out), "--workers", "1", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert "<script" not in html and "http" not in html and "<svg" in html  # nothing from elsewhere
    flagged, unflagged = html.split("random sample to check for misses")
    assert flagged.index(">n4<") < flagged.index(">n3<") and ">n1<" not in flagged  # discordant first
    assert ">n1<" in unflagged and ">n5<" in unflagged  # no red flag: in the sample to check
    assert "numb saddle area</mark> and retention since today" in html  # the note around it
    assert "<mark class='flag'>retention</mark> since today" in html
    again = tmp_path / "again.html"
    command = ["screen-report", str(out), "-o", str(again), "--notes", str(notes)]
    assert runner.invoke(app, command).exit_code == 0
    made_again = again.read_text()
    assert made_again.count("<td>n") == html.count("<td>n") > 0  # the same notes listed
    assert made_again.count("<mark") == html.count("<mark")  # with the same excerpts


def test_an_error_message_keeps_its_square_brackets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyspark(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    notes = _notes(tmp_path / "n.jsonl", 2)
    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    result = runner.invoke(
        app, ["screen", str(notes), "-o", str(tmp_path / "o.parquet"), "--engine", "spark"]
    )
    assert result.exit_code == 2 and "backtriage[spark]" in result.stderr


def test_screening_is_said_to_begin_once_the_reader_is_loaded(tmp_path: Path) -> None:
    """The progress bar's clock starts when a worker has loaded the reader, not while it loads:
    `ready` comes once, after the batches a resumed run skips and before any batch screened."""
    from backtriage.batch.embedded import prepare, run_embedded
    from backtriage.batch.sources import NoteSource

    source = NoteSource([_notes(tmp_path / "notes.jsonl", 40)])
    folder, _ = prepare(source, tmp_path / "flags.parquet", {})
    events: list[tuple[str, int]] = []
    run_embedded(
        source.batches(10),
        folder,
        {0},  # the first batch was done by an earlier run
        1,
        False,
        lambda notes, _flagged: events.append(("progress", notes)),
        lambda: events.append(("ready", 0)),
    )
    assert events[0] == ("progress", 10)  # the skipped batch, counted at once
    assert [name for name, _ in events].count("ready") == 1
    assert events[1] == ("ready", 0) and events[2:] == [("progress", 20), ("progress", 30), ("progress", 40)]
