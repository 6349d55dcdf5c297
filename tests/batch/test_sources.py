"""Reading notes from files: every format, chosen columns, and nothing dropped."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from backtriage.batch.sources import NoteSource
from backtriage.errors import InvalidInputError


def _rows(source: NoteSource, size: int = 2) -> list[dict[str, object]]:
    return [row for batch in source.batches(size) for row in batch.to_pylist()]


def test_csv_keeps_a_row_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('note_id,note_text\nA1,"numb back, plan physio"\nA2,"two",extra\nA3,\n')
    rows = _rows(NoteSource([path]))
    assert [r["id"] for r in rows] == ["A1", "notes.csv:2", "A3"]
    assert rows[0]["text"] == "numb back, plan physio" and rows[0]["error"] is None
    assert "3 fields" in str(rows[1]["error"]) and rows[2]["error"] == "the note has no text"


def test_json_lines_keep_a_bad_line_and_the_lines_after_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text(
        json.dumps({"id": 1, "text": "a"}) + "\n{broken\n[1]\n" + json.dumps({"id": 4, "text": "d"}) + "\n"
    )
    rows = _rows(NoteSource([path]))
    assert [r["id"] for r in rows] == ["1", "notes.jsonl:2", "notes.jsonl:3", "4"]
    assert [r["error"] is None for r in rows] == [True, False, False, True]


def test_parquet_and_a_folder_of_text_files(tmp_path: Path) -> None:
    parquet = tmp_path / "n.parquet"
    duckdb.sql(f"COPY (SELECT 'p' || i AS doc_id, 'note ' || i AS body FROM range(3) t(i)) TO '{parquet}'")
    folder = tmp_path / "notes"
    (folder / "ward").mkdir(parents=True)
    (folder / "ward" / "x.txt").write_text("numb bum")
    (folder / "y.txt").write_bytes(b"\x80\x81 bad bytes")  # (\xff\xfe would be UTF-16's mark)
    rows = _rows(NoteSource([parquet, folder]), 10)
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "ward/x", "y"]
    assert rows[3]["text"] == "numb bum" and "not UTF-8" in str(rows[4]["error"])


def test_limit_sample_and_count(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": f"note {i}"}) + "\n" for i in range(50)))
    assert NoteSource([path]).count() == 50 and NoteSource([path], limit=7).count() == 7
    assert [r["id"] for r in _rows(NoteSource([path], limit=3))] == ["0", "1", "2"]
    first = _rows(NoteSource([path], sample=5, seed=3))
    assert first == _rows(NoteSource([path], sample=5, seed=3)) and len(first) == 5  # repeatable
    assert [int(str(r["id"])) for r in first] == sorted(int(str(r["id"])) for r in first)  # in order


@pytest.mark.parametrize(
    ("content", "message"),
    [("a,b\n1,2\n", "which column holds the note"), ("id,text\n1,x\n", "no column 'body'")],
)
def test_unknown_columns_are_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "n.csv"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        _rows(NoteSource([path], text_column="body" if "body" in message else None))
