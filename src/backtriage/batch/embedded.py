"""The embedded engine: every core of this machine, no set-up.

Batches of notes go to a pool of worker processes, each of which loads the reader once and
writes the rows of each batch it screens to its own Parquet part (written to a temporary name,
then renamed, so a part is either whole or absent). A run that is killed and started again with
the same input and options skips the parts already written. When every batch is done, DuckDB
joins the parts, in input order, into the output file (Parquet, CSV or JSON lines).

A worker that dies (killed, out of memory) breaks the pool: the batches it held are tried once
more, one at a time, in a fresh pool, and a batch that kills its worker again becomes error rows,
so the run finishes. Workers end with the process that started them, even one killed outright.
A part that cannot be written (a full disk) stops the run with the reason; the parts already
written stay, for a resume.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from backtriage.batch.files import printable
from backtriage.batch.output import cannot_write, output_format, parts_folder, written_whole
from backtriage.batch.schema import FULL_SCHEMA, SLIM_SCHEMA
from backtriage.batch.sources import NoteSource
from backtriage.errors import InvalidInputError

__all__ = [
    "Progress",
    "auto_batch_size",
    "RunSummary",
    "finish",
    "finish_from",
    "output_format",
    "parts_folder",
    "prepare",
    "run_embedded",
]

#: Why the notes of a batch have no result when its worker died on it twice.
WORKER_DIED = "the process screening this note stopped twice (killed, or out of memory?)"
#: Seconds between a worker's checks that the process that started it is still there.
PARENT_CHECK = 0.5
#: What a run stopped by a failed write can do next.
RESUME = "; the notes screened so far are kept there: run the same command again to go on"
_PART = re.compile(r"part-(\d{6,})\.parquet")


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
#: Called once, when the first worker has loaded the reader and screening begins.
Ready = Callable[[], None]
#: A batch of notes and its place in the input.
_Job = tuple[int, pa.RecordBatch]


#: Batches in a run of few notes: enough that no worker waits long for the last one to finish.
MIN_BATCHES = 64
#: Notes per batch, at most and at least, when the size is not given.
MAX_BATCH, MIN_BATCH = 200, 20


def auto_batch_size(notes: int) -> int:
    """Notes per batch for a run of `notes`: 200 for a long run (few parts to join), smaller for
    a short one, so that its last batches do not leave workers idle (the number of notes alone
    decides it, so a resumed run cuts its batches the same way)."""
    return max(MIN_BATCH, min(MAX_BATCH, -(-notes // MIN_BATCHES)))


def prepare(source: NoteSource, output: Path, options: dict[str, Any]) -> tuple[Path, set[int]]:
    """The parts folder and the batches already done, if this run was started before. Parts from
    a different input or different options are refused, not mixed in (a folder with no parts
    yet, left by a run that stopped early, is simply started again)."""
    output_format(output)
    folder = parts_folder(output)
    manifest = json.loads(json.dumps({"input": source.fingerprint(), **options}))
    done = _parts(folder)
    if done:
        if _recorded(folder) != manifest:
            raise InvalidInputError(
                f"{printable(str(folder))} holds an unfinished run with other input or options; "
                "remove it or choose another output"
            )
        return folder, set(done)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with written_whole(folder / "run.json") as stamp:
            stamp.write_text(json.dumps(manifest))
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    return folder, set()


def _recorded(folder: Path) -> Any:
    """What the unfinished run in `folder` was asked to do; None if it cannot be read."""
    try:
        return json.loads((folder / "run.json").read_text())
    except (OSError, ValueError):
        return None


def _parts(folder: Path) -> dict[int, Path]:
    """The parts written so far, by batch number."""
    if not folder.is_dir():
        return {}
    found = {int(m.group(1)): p for p in folder.iterdir() if (m := _PART.fullmatch(p.name))}
    return dict(sorted(found.items()))


def _screen_part(index: int, batch: pa.RecordBatch, full: bool, folder: str) -> tuple[int, dict[str, Any]]:
    from backtriage.batch.screen import screen_batch

    rows = screen_batch(batch, full)
    with written_whole(Path(folder) / f"part-{index:06d}.parquet") as partial:
        pq.write_table(pa.Table.from_batches([rows]), partial)
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


def _warm(parent: int, ready: Any = None) -> None:
    """A new worker: load the reader (a first note screened), then say so through `ready`, an
    event of the process that started it."""
    _end_with(parent)
    from backtriage.batch import screen
    from backtriage.text.pipeline import limit_vocabulary_growth

    limit_vocabulary_growth(WORKER_VOCABULARY_LIMIT)

    screen.screen_batch(pa.RecordBatch.from_pylist([{"id": "warm", "text": "numb back", "error": None}]))
    if ready is not None:
        ready.set()


def _end_with(parent: int) -> None:
    """End this worker when the process that started it has gone, even if it was killed outright:
    nothing else would tell a worker waiting on its task queue, whose other end it holds too."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


_SPAWN = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB threads


def _new_pool(workers: int, ready: Any = None) -> Executor:
    return ProcessPoolExecutor(workers, mp_context=_SPAWN, initializer=_warm, initargs=(os.getpid(), ready))


def run_embedded(
    batches: Iterator[pa.RecordBatch],
    folder: Path,
    done: set[int],
    workers: int,
    full: bool,
    progress: Progress | None = None,
    ready: Ready | None = None,
) -> RunSummary:
    """Screen every batch not yet done, `workers` processes at a time. `ready` is called (in this
    thread) once a worker has loaded the reader, so that a progress bar can start its clock then."""
    summary = RunSummary()
    runner = _Runner(folder, workers, full, lambda tally: _add(summary, tally, progress), ready)
    try:
        for index, batch in enumerate(batches):
            if index in done:
                summary.skipped_batches += 1
                _add(summary, {"notes": batch.num_rows}, progress)
            else:
                runner.submit((index, batch))
        runner.drain()
    finally:
        runner.close()
    return summary


class _Runner:
    """Sends batches to a pool of workers, at most two per worker at a time (so memory stays flat
    however large the input), and replaces the pool when a worker dies."""

    def __init__(
        self,
        folder: Path,
        workers: int,
        full: bool,
        done: Callable[[dict[str, Any]], None],
        ready: Ready | None = None,
    ) -> None:
        self.folder, self.workers, self.full, self.done = folder, workers, full, done
        self._ready, self._loaded = ready, _SPAWN.Event() if ready is not None else None
        self._pool: Executor | None = None
        self._running: dict[Future[tuple[int, dict[str, Any]]], _Job] = {}

    def submit(self, job: _Job) -> None:
        try:
            future = self._executor().submit(_screen_part, *job, self.full, str(self.folder))
        except BrokenProcessPool:
            self._recover([job])
            return
        self._running[future] = job
        if len(self._running) >= 2 * self.workers:
            self._collect(FIRST_COMPLETED)

    def drain(self) -> None:
        while self._running:
            self._collect(FIRST_COMPLETED)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> Executor:
        if self._pool is None:
            self._pool = _new_pool(self.workers, self._loaded)
        return self._pool

    def _collect(self, when: str) -> None:
        while True:  # until a batch ends; meanwhile, say when the reader is loaded
            finished, _ = wait(self._running, timeout=None if self._ready is None else 0.1, return_when=when)
            if self._ready is not None and self._loaded is not None and self._loaded.is_set():
                ready, self._ready = self._ready, None
                ready()
            if finished:
                break
        jobs = [(future, self._running.pop(future)) for future in finished]
        lost = [job for future, job in jobs if not self._take(future, job)]
        if lost:
            self._recover(lost)

    def _take(self, future: Future[tuple[int, dict[str, Any]]], job: _Job) -> bool:
        """Count a finished batch; False if its worker died before finishing it."""
        try:
            tally = future.result()[1]
        except BrokenProcessPool:
            return False
        except OSError as exc:
            raise cannot_write(self.folder, exc, RESUME) from None
        except Exception as exc:  # noqa: BLE001 - a batch that fails is kept, as error rows with the type
            tally = self._write_failed(job, f"could not screen this note ({type(exc).__name__})")
        self.done(tally)
        return True

    def _recover(self, lost: list[_Job]) -> None:
        """After a worker died: let the other batches of the broken pool end (finished or lost
        too), then try each lost batch once more, alone in a fresh pool, so that a batch that
        kills its worker again takes no other batch with it."""
        while self._running:
            finished, _ = wait(self._running)
            jobs = [(future, self._running.pop(future)) for future in finished]
            lost += [job for future, job in jobs if not self._take(future, job)]
        self.close()
        for job in sorted(lost, key=lambda job: job[0]):
            self._retry(job)

    def _retry(self, job: _Job) -> None:
        try:
            if self._take(self._executor().submit(_screen_part, *job, self.full, str(self.folder)), job):
                return
        except BrokenProcessPool:
            pass
        self.close()
        self.done(self._write_failed(job, WORKER_DIED))

    def _write_failed(self, job: _Job, error: str) -> dict[str, Any]:
        """Write a batch that could not be screened as error rows (here, not in a worker)."""
        index, batch = job
        errors = pa.array([e or error for e in batch.column("error").to_pylist()], pa.string())
        failed = batch.set_column(batch.schema.get_field_index("error"), "error", errors)
        try:
            return _screen_part(index, failed, self.full, str(self.folder))[1]
        except OSError as exc:
            raise cannot_write(self.folder, exc, RESUME) from None


def _add(summary: RunSummary, tally: dict[str, Any], progress: Progress | None) -> None:
    summary.notes += tally["notes"]
    summary.flagged += tally.get("flagged", 0)
    summary.discordant += tally.get("discordant", 0)
    summary.errors += tally.get("errors", 0)
    for urgency, n in tally.get("by_urgency", {}).items():
        summary.by_urgency[urgency] = summary.by_urgency.get(urgency, 0) + n
    if progress is not None:
        progress(summary.notes, summary.flagged)


def finish(folder: Path, output: Path, full: bool = False) -> RunSummary:
    """Join the parts, in input order, into the output; then remove the parts. Returns the counts
    over the whole output (a resumed run counts what earlier runs wrote too). If the output
    cannot be written, the parts stay for the next run."""
    try:
        summary = finish_from(
            list(_parts(folder).values()), output, schema=FULL_SCHEMA if full else SLIM_SCHEMA
        )
    except InvalidInputError as exc:
        kept = f"; the screened notes are kept in {printable(str(folder))}: run the same command again"
        raise InvalidInputError(f"{exc}{kept}") from None
    shutil.rmtree(folder, ignore_errors=True)
    return summary


def finish_from(
    parts: list[Path], output: Path, order_by: str | None = None, schema: pa.Schema = SLIM_SCHEMA
) -> RunSummary:
    """Write the rows of these Parquet files to the output, in file order (or ordered by the
    column `order_by`, which is then left out), and count them. With no parts the output is an
    empty file with the columns of `schema` (a 0-byte file is no Parquet file). The output is
    written whole or not at all."""
    listing = "[" + ", ".join(_literal(str(p)) for p in parts) + "]"
    fmt = output_format(output)
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        if parts:
            rows = f"SELECT * FROM read_parquet({listing})"
            if order_by:
                rows = f"SELECT * EXCLUDE ({order_by}) FROM read_parquet({listing}) ORDER BY {order_by}"
        else:
            con.register("no_rows", schema.empty_table())
            rows = "SELECT * FROM no_rows"
        try:
            with written_whole(output) as partial:
                _copy(con, rows, partial, fmt)
        except (duckdb.Error, OSError) as exc:
            raise cannot_write(output, exc) from None
        return _summarise(con, listing) if parts else RunSummary()


def _copy(con: duckdb.DuckDBPyConnection, rows: str, target: Path, fmt: str) -> None:
    options = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json"}[fmt]
    con.execute(f"COPY ({rows}) TO {_literal(str(target))} ({options})")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
