"""Notes to screen, from CSV, JSON lines, Parquet or a folder of `.txt` files, as Arrow batches
of (`id`, `text`, `error`), in a fixed order so a run can be resumed batch by batch.

Parquet is read by DuckDB. CSV, JSON lines and text files are read here, row by row, line by line
and file by file: a record that cannot be read becomes an error row with its place, never a
silent drop, and the run goes on (DuckDB's CSV reader refuses a whole file over one bad quote).
So does a file that cannot be read at all (a damaged Parquet file, a link to nowhere, a pipe);
only a mistake in the command itself (no such file, no such column) stops the run.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import duckdb
import pyarrow as pa

from backtriage.batch.files import (
    NOTE_LIMIT,
    UNDECODABLE,
    clean_id,
    columns_for_message,
    encoding_of,
    note_problem,
    printable,
    read_note_file,
    reason,
    walk_text_files,
)
from backtriage.errors import InvalidInputError

__all__ = ["NOTE_SCHEMA", "NoteSource"]

NOTE_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("error", pa.string())])
ID_NAMES = ("id", "note_id", "noteid", "document_id", "doc_id", "record_id", "encounter_id", "row_id")
TEXT_NAMES = ("text", "note", "note_text", "notetext", "body", "content", "report", "narrative")
KINDS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
KINDS[".parquet"] = "parquet"
PARQUET_UNREADABLE = "the file could not be read as Parquet (empty, damaged or not Parquet)"


def _kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInputError(
            f"{printable(str(path))}: not a CSV, JSON lines, Parquet file or folder of .txt notes"
        )
    return kind


@dataclass
class NoteSource:
    paths: list[Path]
    id_column: str | None = None
    text_column: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    #: Each Parquet file's id and text columns, or why the file cannot be read.
    _columns: dict[Path, tuple[str | None, str] | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in self.paths:
            if not path.exists():
                raise InvalidInputError(f"{printable(str(path))}: no such file or folder")
            if not (path.is_dir() or path.is_file()):
                raise InvalidInputError(
                    f"{printable(str(path))}: not a regular file or folder (a pipe or device is not read)"
                )
            if _kind(path) == "parquet":
                self._columns[path] = self._pick_columns(path)
            elif _kind(path) != "folder":
                with contextlib.closing(self._rows(path)) as rows:
                    next(rows, None)  # a file without the columns is refused now, not half way

    def fingerprint(self) -> list[dict[str, Any]]:
        """What identifies the input, for resuming: paths, sizes and modification times."""
        files = [
            p
            for path in self.paths
            for p in ([path] if not path.is_dir() else [entry for entry, _ in walk_text_files(path)])
        ]
        return [{"path": os.path.realpath(p), **_size_and_time(p)} for p in files]

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

    def _rows(self, path: Path) -> Generator[dict[str, Any], None, None]:
        """The rows of one input; if the file stops being readable (a disk error, no permission),
        one error row says where, and the run goes on with the next input."""
        readers: dict[str, Callable[[Path], Iterator[dict[str, Any]]]] = {
            "folder": _text_files,
            "jsonl": self._json_lines,
            "csv": self._csv,
            "parquet": self._parquet,
        }
        read = 0
        try:
            for row in readers[_kind(path)](path):
                read += 1
                yield row
        except OSError as exc:
            problem = f"the file could not be read ({reason(exc)})"
            if read:
                problem = f"reading stopped after {read} rows ({reason(exc)}): the rest was not read"
            yield _failed(path.name, problem)

    def _pick_columns(self, path: Path) -> tuple[str | None, str] | str:
        try:
            with duckdb.connect() as con:
                described = con.execute(f"DESCRIBE SELECT * FROM {_scan(path)}").fetchall()
        except (duckdb.Error, OSError):
            return PARQUET_UNREADABLE
        names = [str(row[0]) for row in described]
        return _choose(names, self.id_column, self.text_column, path)

    def _parquet(self, path: Path) -> Iterator[dict[str, Any]]:
        picked = self._columns[path]
        if isinstance(picked, str):
            yield _failed(path.name, picked)
            return
        id_col, text_col = picked
        ident = f"CAST({_quoted(id_col)} AS VARCHAR)" if id_col else "CAST(row_number() OVER () AS VARCHAR)"
        query = f"SELECT {ident} AS id, CAST({_quoted(text_col)} AS VARCHAR) AS text FROM {_scan(path)}"
        read = 0
        try:
            with duckdb.connect() as con:
                reader: Any = con.sql(query).to_arrow_reader(4096)
                for batch in reader:
                    for note_id, text in zip(
                        batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
                    ):
                        read += 1
                        yield _note(note_id, text, "the note has no text")
        except (duckdb.Error, pa.ArrowException, OSError):  # damaged inside, its footer whole
            yield _failed(f"{path.name}:{read + 1}", f"rows from {read + 1} on: {PARQUET_UNREADABLE}")

    def _csv(self, path: Path) -> Iterator[dict[str, Any]]:
        with path.open("rb") as head:
            encoding = encoding_of(head.read(3))
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        with path.open(newline="", encoding=encoding, errors=UNDECODABLE) as fh:
            records = _records(fh, delimiter)
            first = next(records, None)
            if first is None:
                return
            header = first[0]
            if header is None:
                yield _failed(path.name, "the header row has a field over 16 MB: the file was not read")
                return
            id_col, text_col = _choose(header, self.id_column, self.text_column, path)
            at_text, at_id = header.index(text_col), header.index(id_col) if id_col else None
            for number, (row, lines) in enumerate(records, start=1):
                where = f"{path.name}:{number}"
                if row is None:
                    yield _failed(where, f"row {number} has a field over 16 MB: lines {lines} were skipped")
                elif len(row) != len(header):
                    yield _failed(where, f"row {number} has {len(row)} fields, the header {len(header)}")
                else:
                    note_id = row[at_id] if at_id is not None else where
                    yield _note(note_id, row[at_text], "the note has no text", f"row {number}")

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
                    yield _failed(where, f"line {number} is not valid JSON")
                    continue
                if not isinstance(record, dict):
                    yield _failed(where, f"line {number} is not a JSON object")
                    continue
                if id_name is None or text_name is None:
                    found_id, found_text = _choose(list(record), id_name, text_name, path)
                    id_name, text_name = id_name or found_id, text_name or found_text
                note_id = record.get(id_name) if id_name else None
                missing = f"line {number} has no text in '{printable(text_name)}'"
                text = record.get(text_name)
                yield _note(where if note_id is None else note_id, text, missing, f"line {number}")

    def _count(self, path: Path) -> int:
        kind = _kind(path)
        if kind == "folder":
            return len(walk_text_files(path))
        if kind == "parquet":
            if isinstance(self._columns[path], str):
                return 1  # its error row
            try:
                with duckdb.connect() as con:
                    row = con.execute(f"SELECT count(*) FROM {_scan(path)}").fetchone()
            except duckdb.Error:
                return 1
            return int(row[0]) if row else 0
        return sum(1 for _ in self._rows(path))  # CSV rows may span lines: count what is read


def _scan(path: Path) -> str:
    return "read_parquet('{}')".format(str(path).replace("'", "''"))


def _quoted(name: str) -> str:
    """A column name as an SQL identifier, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'


def _size_and_time(path: Path) -> dict[str, Any]:
    try:
        status = path.stat()
    except OSError:  # a link to nowhere or a loop: its error row is part of the input too
        return {"size": None, "mtime": None}
    return {"size": status.st_size, "mtime": status.st_mtime}


def _failed(place: str, error: str) -> dict[str, Any]:
    """The row of a record, file or folder that could not be read: its place and why."""
    return {"id": clean_id(place), "text": None, "error": error}


def _note(note_id: object, text: object, missing: str, place: str | None = None) -> dict[str, Any]:
    """The row of a note, or of why it cannot be screened (no text, undecodable, too large)."""
    ident = clean_id(str(note_id)) if note_id is not None else None
    if not isinstance(text, str) or not text:
        return {"id": ident, "text": None, "error": missing}
    problem = note_problem(text)
    if problem:
        return {"id": ident, "text": None, "error": f"{place}: {problem}" if place else problem}
    return {"id": ident, "text": text, "error": None}


class _Lines:
    """A CSV file's lines as the reader takes them: counted, with the quotes of the record being
    read, so that after a record the reader gives up on, reading can go on at the next one."""

    def __init__(self, fh: TextIO) -> None:
        self._fh, self.number, self.quotes = fh, 0, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._fh)
        self.number += 1
        self.quotes += line.count('"')
        return line

    def skip_to_record_end(self) -> None:
        """Read on to the line that closes the record's open quote, if one is open."""
        while self.quotes % 2 and next(self, None) is not None:
            pass


def _records(fh: TextIO, delimiter: str) -> Iterator[tuple[list[str] | None, str]]:
    """Each CSV record, with the lines it spans. A record with a field over the limit comes back
    as None after its lines are skipped, so one huge field costs one row, not the file."""
    csv.field_size_limit(NOTE_LIMIT)
    lines = _Lines(fh)
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        lines.quotes, first = 0, lines.number + 1
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error:
            lines.skip_to_record_end()
            fields = None
        yield fields, f"{first}-{lines.number}"


def _choose(
    names: list[str], id_column: str | None, text_column: str | None, path: Path
) -> tuple[str | None, str]:
    """The id and text columns: as given, else the first usual name (ids may be absent)."""
    lower = {n.lower(): n for n in names}
    where = printable(str(path))
    for given in (id_column, text_column):
        if given is not None and given not in names:
            raise InvalidInputError(f"{where}: no column '{printable(given)}' ({columns_for_message(names)})")
    text = text_column or next((lower[n] for n in TEXT_NAMES if n in lower), None)
    if text is None:
        raise InvalidInputError(
            f"{where}: which column holds the note? Give --text-column ({columns_for_message(names)})"
        )
    return id_column or next((lower[n] for n in ID_NAMES if n in lower), None), text


def _text_files(folder: Path) -> Iterator[dict[str, Any]]:
    """Each `.txt` file under `folder` as a note (its path is its id), and each subfolder that
    could not be listed as an error row."""
    for entry, problem in walk_text_files(folder):
        place = entry.relative_to(folder)
        if problem is not None:
            yield _failed(str(place), problem)
            continue
        text, problem = read_note_file(entry)
        note_id = str(place.with_suffix(""))
        yield _failed(note_id, problem) if problem else _note(note_id, text, "the note has no text")


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
