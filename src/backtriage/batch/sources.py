"""Notes to screen, from CSV, JSON lines, Parquet or a folder of `.txt` files, as Arrow batches
of (`id`, `text`, `error`), in a fixed order so a run can be resumed batch by batch.

Parquet is read by DuckDB. CSV, JSON lines and text files are read here, row by row, line by line
and file by file: a record that cannot be read becomes an error row with its place, never a
silent drop, and the run goes on (DuckDB's CSV reader refuses a whole file over one bad quote).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from backtriage.errors import InvalidInputError

__all__ = ["NOTE_SCHEMA", "NoteSource"]

NOTE_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("error", pa.string())])
ID_NAMES = ("id", "note_id", "noteid", "document_id", "doc_id", "record_id", "encounter_id", "row_id")
TEXT_NAMES = ("text", "note", "note_text", "notetext", "body", "content", "report", "narrative")
KINDS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
KINDS[".parquet"] = "parquet"


def _kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInputError(f"{path}: not a CSV, JSON lines, Parquet file or folder of .txt notes")
    return kind


@dataclass
class NoteSource:
    paths: list[Path]
    id_column: str | None = None
    text_column: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    _columns: dict[Path, tuple[str | None, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in self.paths:
            if not path.exists():
                raise InvalidInputError(f"{path}: no such file or folder")
            if _kind(path) == "parquet":
                self._columns[path] = self._pick_columns(path)

    def fingerprint(self) -> list[dict[str, Any]]:
        """What identifies the input, for resuming: paths, sizes and modification times."""
        files = [
            p for path in self.paths for p in ([path] if path.is_file() else sorted(path.rglob("*.txt")))
        ]
        return [
            {"path": str(p.resolve()), "size": p.stat().st_size, "mtime": p.stat().st_mtime} for p in files
        ]

    def count(self) -> int:
        total = sum(self._count(path) for path in self.paths)
        for cap in (self.limit, self.sample):
            total = min(total, cap) if cap is not None else total
        return total

    def batches(self, size: int) -> Iterator[pa.RecordBatch]:
        """The notes, `size` at a time, always in the same order."""
        rows: list[dict[str, Any]] = []
        for row in self._selected():
            rows.append(row)
            if len(rows) == size:
                yield pa.RecordBatch.from_pylist(rows, schema=NOTE_SCHEMA)
                rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=NOTE_SCHEMA)

    # ---- reading ---------------------------------------------------------------------------
    def _selected(self) -> Iterator[dict[str, Any]]:
        rows: Iterator[dict[str, Any]] = (row for path in self.paths for row in self._rows(path))
        if self.sample is not None:
            rows = iter(_reservoir(rows, self.sample, self.seed))
        for n, row in enumerate(rows):
            if self.limit is not None and n >= self.limit:
                return
            yield row

    def _rows(self, path: Path) -> Iterator[dict[str, Any]]:
        kind = _kind(path)
        if kind == "folder":
            yield from _text_files(path)
        elif kind == "jsonl":
            yield from self._json_lines(path)
        elif kind == "csv":
            yield from self._csv(path)
        else:
            yield from self._parquet(path)

    def _pick_columns(self, path: Path) -> tuple[str | None, str]:
        with duckdb.connect() as con:
            described = con.execute(f"DESCRIBE SELECT * FROM {_scan(path)}").fetchall()
        names = [str(row[0]) for row in described]
        return _choose(names, self.id_column, self.text_column, path)

    def _parquet(self, path: Path) -> Iterator[dict[str, Any]]:
        id_col, text_col = self._columns[path]
        ident = f'CAST("{id_col}" AS VARCHAR)' if id_col else "CAST(row_number() OVER () AS VARCHAR)"
        query = f'SELECT {ident} AS id, CAST("{text_col}" AS VARCHAR) AS text FROM {_scan(path)}'
        with duckdb.connect() as con:
            reader: Any = con.sql(query).to_arrow_reader(4096)
            for batch in reader:
                for note_id, text in zip(
                    batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
                ):
                    yield _note(note_id, text, "the note has no text")

    def _csv(self, path: Path) -> Iterator[dict[str, Any]]:
        csv.field_size_limit(16 * 1024 * 1024)
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            rows = csv.reader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            header = next(rows, None)
            if header is None:
                return
            id_col, text_col = _choose(header, self.id_column, self.text_column, path)
            at_text, at_id = header.index(text_col), header.index(id_col) if id_col else None
            for number, row in enumerate(rows, start=1):
                where = f"{path.name}:{number}"
                if len(row) != len(header):
                    yield _note(where, None, f"row {number} has {len(row)} fields, the header {len(header)}")
                    continue
                yield _note(row[at_id] if at_id is not None else where, row[at_text], "the note has no text")

    def _json_lines(self, path: Path) -> Iterator[dict[str, Any]]:
        id_name, text_name = self.id_column, self.text_column
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                where = f"{path.name}:{number}"
                try:
                    record = json.loads(raw)
                except (ValueError, RecursionError):
                    yield {"id": where, "text": None, "error": f"line {number} is not valid JSON"}
                    continue
                if not isinstance(record, dict):
                    yield {"id": where, "text": None, "error": f"line {number} is not a JSON object"}
                    continue
                if id_name is None or text_name is None:
                    found_id, found_text = _choose(list(record), id_name, text_name, path)
                    id_name, text_name = id_name or found_id, text_name or found_text
                note_id = record.get(id_name) if id_name else None
                text = record.get(text_name)
                yield {
                    "id": str(note_id) if note_id is not None else where,
                    "text": text if isinstance(text, str) else None,
                    "error": None if isinstance(text, str) else f"line {number} has no text in '{text_name}'",
                }

    def _count(self, path: Path) -> int:
        kind = _kind(path)
        if kind == "folder":
            return sum(1 for _ in path.rglob("*.txt"))
        if kind == "parquet":
            with duckdb.connect() as con:
                row = con.execute(f"SELECT count(*) FROM {_scan(path)}").fetchone()
            return int(row[0]) if row else 0
        return sum(1 for _ in self._rows(path))  # CSV rows may span lines: count what is read


def _scan(path: Path) -> str:
    return "read_parquet('{}')".format(str(path).replace("'", "''"))


def _note(note_id: object, text: str | None, missing: str) -> dict[str, Any]:
    return {
        "id": str(note_id) if note_id is not None else None,
        "text": text if text else None,
        "error": None if text else missing,
    }


def _choose(
    names: list[str], id_column: str | None, text_column: str | None, path: Path
) -> tuple[str | None, str]:
    """The id and text columns: as given, else the first usual name (ids may be absent)."""
    lower = {n.lower(): n for n in names}
    for given in (id_column, text_column):
        if given is not None and given not in names:
            raise InvalidInputError(f"{path}: no column '{given}' (columns: {', '.join(names[:20])})")
    text = text_column or next((lower[n] for n in TEXT_NAMES if n in lower), None)
    if text is None:
        raise InvalidInputError(
            f"{path}: which column holds the note? Give --text-column (columns: {', '.join(names[:20])})"
        )
    return id_column or next((lower[n] for n in ID_NAMES if n in lower), None), text


def _text_files(folder: Path) -> Iterator[dict[str, Any]]:
    for file in sorted(folder.rglob("*.txt")):
        note_id = str(file.relative_to(folder).with_suffix(""))
        try:
            yield {"id": note_id, "text": file.read_text(encoding="utf-8"), "error": None}
        except (OSError, UnicodeDecodeError) as exc:
            yield {"id": note_id, "text": None, "error": f"the file could not be read ({type(exc).__name__})"}


def _reservoir(rows: Iterator[dict[str, Any]], k: int, seed: int) -> list[dict[str, Any]]:
    """A uniform sample of `k` rows in one pass, kept in input order."""
    rng = random.Random(seed)
    kept: list[tuple[int, dict[str, Any]]] = []
    for n, row in enumerate(rows):
        if n < k:
            kept.append((n, row))
        else:
            j = rng.randint(0, n)
            if j < k:
                kept[j] = (n, row)
    return [row for _, row in sorted(kept, key=lambda pair: pair[0])]
