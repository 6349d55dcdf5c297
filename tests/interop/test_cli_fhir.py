"""FHIR from the command line: `assess --format fhir` prints a Bundle, and `screen --fhir-dir`
writes one Bundle per note with red flags, and none for the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from backtriage.batch.sources import NoteSource
from backtriage.domain.case import Case
from backtriage.interfaces.cli import app
from backtriage.interfaces.cli_screen import bundle_file_name, write_bundles
from backtriage.reasoning.engine import Engine

runner = CliRunner()
FLAGGED = "54M LBP 3/7, numb saddle area and retention since today. Plan: analgesia, physio."
CLEAR = "LBP 2 weeks. Denies saddle anaesthesia, BNO, PU normal. Plan: naproxen, physio."


def kinds(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle["entry"]]


def predictions(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    risk = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RiskAssessment")
    return risk["prediction"]  # type: ignore[no-any-return]


def test_assess_format_fhir_prints_a_bundle_with_the_top_causes() -> None:
    result = runner.invoke(app, ["assess", "--example", "cauda-equina", "--format", "fhir"])
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection" and "RiskAssessment" in kinds(bundle)
    assert len(predictions(bundle)) == 5  # --top 5, as for the other formats
    assert predictions(bundle)[0]["outcome"]["text"] == "Cauda equina syndrome"
    every = json.loads(
        runner.invoke(app, ["assess", "-e", "cauda-equina", "-f", "fhir", "--top", "0"]).stdout
    )
    assert len(predictions(every)) > 5


def test_format_fhir_cannot_go_with_jsonl(tmp_path: Path) -> None:
    lines = tmp_path / "cases.jsonl"
    lines.write_text('{"id": "1", "answers": {}}\n')
    result = runner.invoke(app, ["assess", "--jsonl", str(lines), "--format", "fhir"])
    assert result.exit_code == 2 and "--jsonl" in result.output


@pytest.mark.parametrize(
    ("note_id", "name"),
    [
        ("n1", "n1.json"),
        ("a/b", "a%2Fb.json"),
        ("..", "%2E%2E.json"),
        (".hidden", "%2Ehidden.json"),
        ("50%", "50%25.json"),
        ("", "%00.json"),
        ("caf\u00e9", "caf%C3%A9.json"),
    ],
)
def test_a_note_id_becomes_a_file_name_that_stays_in_the_folder(note_id: str, name: str) -> None:
    assert bundle_file_name(note_id) == name


def test_long_note_ids_are_cut_but_stay_apart() -> None:
    first, second = bundle_file_name("x" * 300 + "1"), bundle_file_name("x" * 300 + "2")
    assert first != second and len(first) <= 125 and len(second) <= 125


def _notes(path: Path, notes: dict[str, str]) -> NoteSource:
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in notes.items()))
    return NoteSource([path])


def test_bundles_come_from_the_rows_assessments_when_the_run_kept_them(
    tmp_path: Path, engine: Engine
) -> None:
    kept = engine.assess(Case(answers={"saddle_anaesthesia": True, "bladder_dysfunction": True}))
    rows = [
        {"id": "a/1", "red_flags": ["saddle_anaesthesia"], "assessment": kept.model_dump_json()},
        {"id": "b", "red_flags": [], "assessment": kept.model_dump_json()},
        {"id": "c", "red_flags": None, "assessment": None},
        {"id": "a/1", "red_flags": ["bladder_dysfunction"], "assessment": kept.model_dump_json()},
    ]
    output = tmp_path / "rows.jsonl"
    output.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # the notes are not read again: their text here would give no red flag
    source = _notes(tmp_path / "notes.jsonl", {"a/1": CLEAR, "b": CLEAR, "c": CLEAR})
    folder = tmp_path / "fhir"
    assert write_bundles(output, source, folder) == 1  # one file for an id seen twice
    assert [p.name for p in folder.iterdir()] == ["a%2F1.json"]
    bundle = json.loads((folder / "a%2F1.json").read_text())
    Bundle.model_validate(bundle)
    assert predictions(bundle)[0]["outcome"]["text"] == "Cauda equina syndrome"


def test_slim_rows_have_their_flagged_notes_read_and_assessed_again(tmp_path: Path) -> None:
    output = tmp_path / "rows.csv"
    output.write_text('id,red_flags\n001,"[saddle_anaesthesia, bladder_dysfunction]"\n002,[]\n003,\n')
    source = _notes(tmp_path / "notes.jsonl", {"001": FLAGGED, "002": CLEAR, "003": FLAGGED})
    folder = tmp_path / "fhir"
    assert write_bundles(output, source, folder) == 1  # 003 is not flagged in the rows: skipped
    bundle = json.loads((folder / "001.json").read_text())
    flags = [
        c["code"]
        for e in bundle["entry"]
        for c in e["resource"].get("code", {}).get("coding", [])
        if c["system"].endswith("/CodeSystem/red-flag")
    ]
    assert flags and "ces_saddle_with_sphincter" in flags


@pytest.mark.slow
def test_screen_writes_a_bundle_per_flagged_note(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    texts = {"n0": FLAGGED, "n1": CLEAR, "n2": FLAGGED, "n3": CLEAR}
    notes.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()))
    out, folder = tmp_path / "rows.parquet", tmp_path / "bundles"
    args = ["screen", str(notes), "-o", str(out), "--workers", "1", "--fhir-dir", str(folder)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    flagged = {
        i for i, flags in duckdb.sql(f"SELECT id, red_flags FROM read_parquet('{out}')").fetchall() if flags
    }
    assert flagged == {"n0", "n2"}
    assert sorted(p.name for p in folder.iterdir()) == ["n0.json", "n2.json"]
    assert "2 FHIR bundles" in result.stdout
    for path in folder.iterdir():
        Bundle.model_validate_json(path.read_text())


def test_a_fhir_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"id": "n0", "text": CLEAR}) + "\n")
    taken = tmp_path / "taken"
    taken.write_text("")
    args = ["screen", str(notes), "-o", str(tmp_path / "o.parquet"), "--fhir-dir", str(taken)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--fhir-dir" in result.output
