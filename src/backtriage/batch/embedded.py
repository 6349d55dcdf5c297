"""The embedded engine: every core of this machine, no set-up.

Batches of notes go to a pool of worker processes, each of which loads the reader once and
writes the rows of each batch it screens to its own Parquet part (written to a temporary name,
then renamed, so a part is either whole or absent). A run that is killed and started again with
the same input and options skips the parts already written. When every batch is done, DuckDB
joins the parts, in input order, into the output file (Parquet, CSV or JSON lines).
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from backtriage.batch.sources import NoteSource
from backtriage.errors import InvalidInputError

__all__ = ["Progress", "RunSummary", "finish", "finish_from", "parts_folder", "run_embedded"]

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


@dataclass
class RunSummary:
    notes: int = 0
    flagged: int = 0
    discordant: int = 0
    errors: int = 0
    skipped_batches: int = 0
    by_urgency: dict[str, int] = field(default_factory=dict)


#: Called after each batch with (notes done, flagged so far).
Progress = Callable[[int, int], None]


def parts_folder(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def output_format(output: Path) -> str:
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise InvalidInputError(f"{output}: write to a .parquet, .csv or .jsonl file")
    return fmt


def prepare(source: NoteSource, output: Path, options: dict[str, Any]) -> tuple[Path, set[int]]:
    """The parts folder and the batches already done, if this run was started before. A parts
    folder from a different input or different options is refused, not mixed in."""
    output_format(output)
    folder = parts_folder(output)
    manifest = {"input": source.fingerprint(), **options}
    stamp = folder / "run.json"
    if folder.exists() and stamp.exists():
        if json.loads(stamp.read_text()) != json.loads(json.dumps(manifest)):
            raise InvalidInputError(
                f"{folder} holds an unfinished run with other input or options; "
                "remove it or choose another output"
            )
        done = {int(p.stem.split("-")[1]) for p in folder.glob("part-*.parquet")}
        return folder, done
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(manifest))
    return folder, set()


def _screen_part(index: int, batch: pa.RecordBatch, full: bool, folder: str) -> tuple[int, dict[str, Any]]:
    from backtriage.batch.screen import screen_batch

    rows = screen_batch(batch, full)
    target = Path(folder) / f"part-{index:06d}.parquet"
    temporary = target.with_suffix(".tmp")
    pq.write_table(pa.Table.from_batches([rows]), temporary)
    temporary.rename(target)
    return index, _tally(rows)


def _tally(rows: pa.RecordBatch) -> dict[str, Any]:
    data = rows.to_pydict()
    urgencies: dict[str, int] = {}
    for u in data["urgency"]:
        if u is not None:
            urgencies[u] = urgencies.get(u, 0) + 1
    return {
        "notes": rows.num_rows,
        "flagged": sum(1 for flags in data["red_flags"] if flags),
        "discordant": sum(1 for d in data["discordant"] if d),
        "errors": sum(1 for e in data["error"] if e),
        "by_urgency": urgencies,
    }


#: New strings a batch worker's vocabulary may gain before its pipeline is rebuilt (each costs
#: about a kilobyte with the caches around it; the rebuild takes about a second).
WORKER_VOCABULARY_LIMIT = 50_000


def _warm() -> None:
    from backtriage.batch import screen
    from backtriage.text.pipeline import limit_vocabulary_growth

    limit_vocabulary_growth(WORKER_VOCABULARY_LIMIT)

    screen.screen_batch(pa.RecordBatch.from_pylist([{"id": "warm", "text": "numb back", "error": None}]))


def run_embedded(
    batches: Iterator[pa.RecordBatch],
    folder: Path,
    done: set[int],
    workers: int,
    full: bool,
    progress: Progress | None = None,
) -> RunSummary:
    """Screen every batch not yet done, `workers` processes at a time, at most two batches
    queued per worker (so memory stays flat however large the input)."""
    summary = RunSummary()
    context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB threads
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_warm) as pool:
        running: set[Future[tuple[int, dict[str, Any]]]] = set()
        for index, batch in enumerate(batches):
            if index in done:
                summary.skipped_batches += 1
                _add(summary, {"notes": batch.num_rows}, progress)
                continue
            running.add(pool.submit(_screen_part, index, batch, full, str(folder)))
            if len(running) >= 2 * workers:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    _add(summary, future.result()[1], progress)
        for future in running:
            _add(summary, future.result()[1], progress)
    return summary


def _add(summary: RunSummary, tally: dict[str, Any], progress: Progress | None) -> None:
    summary.notes += tally["notes"]
    summary.flagged += tally.get("flagged", 0)
    summary.discordant += tally.get("discordant", 0)
    summary.errors += tally.get("errors", 0)
    for urgency, n in tally.get("by_urgency", {}).items():
        summary.by_urgency[urgency] = summary.by_urgency.get(urgency, 0) + n
    if progress is not None:
        progress(summary.notes, summary.flagged)


def finish(folder: Path, output: Path) -> RunSummary:
    """Join the parts, in input order, into the output; then remove the parts. Returns the counts
    over the whole output (a resumed run counts what earlier runs wrote too)."""
    summary = finish_from(sorted(folder.glob("part-*.parquet")), output)
    shutil.rmtree(folder)
    return summary


def finish_from(parts: list[Path], output: Path, order_by: str | None = None) -> RunSummary:
    """Write the rows of these Parquet files to the output, in file order (or ordered by the
    column `order_by`, which is then left out), and count them."""
    listing = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts) + "]"
    target = str(output).replace("'", "''")
    fmt = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json"}[
        output_format(output)
    ]
    rows = (
        f"SELECT * EXCLUDE ({order_by}) FROM read_parquet({listing}) ORDER BY {order_by}"
        if order_by
        else (f"SELECT * FROM read_parquet({listing})")
    )
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        if not parts:
            output.write_text("")
            return RunSummary()
        con.execute(f"COPY ({rows}) TO '{target}' ({fmt})")
        return _summarise(con, listing)


def _summarise(con: duckdb.DuckDBPyConnection, listing: str) -> RunSummary:
    row = con.execute(
        "SELECT count(*), count(*) FILTER (len(red_flags) > 0), count(*) FILTER (discordant), "
        f"count(*) FILTER (error IS NOT NULL) FROM read_parquet({listing})"
    ).fetchone()
    assert row is not None
    urgencies = con.execute(
        f"SELECT urgency, count(*) FROM read_parquet({listing}) WHERE urgency IS NOT NULL GROUP BY urgency"
    ).fetchall()
    return RunSummary(
        notes=row[0], flagged=row[1], discordant=row[2], errors=row[3], by_urgency=dict(urgencies)
    )
