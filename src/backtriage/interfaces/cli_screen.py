"""`backtriage screen`: many clinical notes screened for red flags written down but not acted on."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from backtriage.errors import BacktriageError, ExitCode
from backtriage.interfaces.cli_common import app, fail, stderr_console, stdout_console

if TYPE_CHECKING:  # the batch modules (DuckDB, Arrow) load only when `screen` runs
    from backtriage.batch.embedded import RunSummary
    from backtriage.batch.sources import NoteSource


class Engine(StrEnum):
    embedded = "embedded"
    spark = "spark"


@app.command()
def screen(
    inputs: Annotated[
        list[Path], typer.Argument(help="CSV, JSON lines or Parquet files, or folders of .txt notes.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where the rows go: .parquet, .csv or .jsonl.")
    ],
    id_column: Annotated[str | None, typer.Option(help="Column holding each note's id.")] = None,
    text_column: Annotated[str | None, typer.Option(help="Column holding the note's text.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64, help="Processes.")] = max(
        1, os.cpu_count() or 1
    ),
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, max=100_000, help="Notes per batch (default: from the number of notes)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N notes.")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="A random sample of N notes.")] = None,
    seed: Annotated[
        int,
        typer.Option(
            help="Seed for --sample and for the report's random notes: the same seed, the same notes."
        ),
    ] = 0,
    full: Annotated[bool, typer.Option("--full", help="Keep each note's complete assessment.")] = False,
    engine: Annotated[
        Engine, typer.Option(help="embedded: this machine's cores; spark: Apache Spark (the [spark] extra).")
    ] = Engine.embedded,
    master: Annotated[str, typer.Option(help="Spark master, with --engine spark.")] = "local[*]",
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a self-contained HTML report here.")
    ] = None,
    unflagged: Annotated[
        int,
        typer.Option(
            min=0,
            help="Notes without red flags the report lists, chosen at random (--seed), to check for misses.",
        ),
    ] = 20,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the output (and report) if they exist.")
    ] = False,
    fhir_dir: Annotated[
        Path | None,
        typer.Option(
            "--fhir-dir",
            help="Also write a FHIR R4 Bundle for each note with red flags, as <note id>.json in this "
            "folder (notes re-read and re-assessed, unless --full kept their assessments).",
        ),
    ] = None,
) -> None:
    """Screen clinical notes: red flags documented, the action documented, and whether the action
    falls short of what the red flags require (discordant). Resumes a killed run."""
    from backtriage.batch.embedded import auto_batch_size, finish, prepare, run_embedded
    from backtriage.batch.output import check_targets
    from backtriage.batch.sources import NoteSource

    started = time.perf_counter()
    if fhir_dir is not None and fhir_dir.exists() and not fhir_dir.is_dir():
        fail("--fhir-dir must be a folder", ExitCode.INVALID_INPUT)
    try:
        source = NoteSource(inputs, id_column, text_column, limit, sample, seed)
        check_targets(inputs, output, report, overwrite)
        total = source.count()
        batch_size = batch_size or auto_batch_size(total)
        options: dict[str, Any] = {"batch_size": batch_size, "limit": limit, "sample": sample, "seed": seed}
        options |= {"full": full, "id_column": id_column, "text_column": text_column}
        if engine is Engine.spark:
            if full:
                fail("--full is not available with --engine spark yet", ExitCode.INVALID_INPUT)
            from backtriage.batch.spark import run_spark

            summary = run_spark(source, output, master, batch_size)
            _bundles(output, source, fhir_dir)
            _report(summary, output, time.perf_counter() - started, report, source, unflagged, seed)
            return
        folder, done = prepare(source, output, options)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            console=stderr_console(),
            transient=True,
        ) as bar:
            # The bar and its clock start when the reader is loaded, not while it loads.
            task = bar.add_task("loading the reader…", total=total, start=False, status="")
            clock = _Clock()

            def ready() -> None:
                clock.start()
                bar.update(task, description="screening")
                bar.start_task(task)

            def progress(notes: int, flagged: int) -> None:
                status = f"{clock.rate(notes):,.0f} notes/s, {flagged:,} flagged" if clock.began else ""
                bar.update(task, completed=notes, status=status)
                clock.notes = notes

            run_embedded(source.batches(batch_size), folder, done, workers, full, progress, ready)
        summary = finish(folder, output, full)
        _bundles(output, source, fhir_dir)
        seconds = time.perf_counter() - started
        loading = clock.began - started if clock.began else None
        _report(summary, output, seconds, report, source, unflagged, seed, loading)
    except BacktriageError as exc:
        fail(str(exc), exc.exit_code)


def _bundles(output: Path, source: NoteSource, folder: Path | None) -> None:
    if folder is None:
        return
    written = write_bundles(output, source, folder)
    stdout_console().print(f"{written} FHIR bundles -> {folder}", highlight=False)


#: Output rows as DuckDB reads them; CSV as text, so that an id like 001 stays 001.
_SCAN = {
    "parquet": "read_parquet({})",
    "csv": "read_csv({}, all_varchar=true)",
    "jsonl": "read_json_auto({})",
}


def write_bundles(output: Path, source: NoteSource, folder: Path) -> int:
    """Write one FHIR Bundle per note the rows in `output` flag (red flags found), as
    `<note id>.json` in `folder`; returns how many. Rows of a --full run hold the assessment;
    otherwise the flagged notes are read again from `source` and screened again, which gives
    the same assessment (same reader, same knowledge base), and the others are skipped. A note
    id that appears twice gets one file, from its first flagged row. The bundles name no patient
    (an unidentified person)."""
    import duckdb

    from backtriage.batch.output import cannot_write, output_format, written_whole
    from backtriage.domain.assessment import Assessment
    from backtriage.interop.fhir import assessment_bundle
    from backtriage.knowledge.loader import load_knowledge_base

    kb, when, written = load_knowledge_base(), datetime.now(UTC).replace(microsecond=0), set[str]()

    def write(note_id: str, assessment: str) -> None:
        if note_id in written:
            return
        bundle = assessment_bundle(kb, Assessment.model_validate_json(assessment), when=when)
        target = folder / bundle_file_name(note_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with written_whole(target) as partial:
                partial.write_text(bundle.model_dump_json(exclude_none=True, indent=2), encoding="utf-8")
        except OSError as exc:
            raise cannot_write(target, exc) from None
        written.add(note_id)

    scan = _SCAN[output_format(output)].format("'" + str(output).replace("'", "''") + "'")
    pending: set[str] = set()
    with duckdb.connect() as con:
        columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
        kept = "assessment" if "assessment" in columns else "NULL"
        cursor = con.execute(
            f"SELECT CAST(id AS VARCHAR), {kept} FROM {scan} "
            "WHERE coalesce(length(CAST(red_flags AS VARCHAR)), 0) > 2"  # not null, not "[]"
        )
        while rows := cursor.fetchmany(1000):
            for note_id, assessment in rows:
                if assessment is None:
                    pending.add(str(note_id))
                else:
                    write(str(note_id), str(assessment))
    if pending:
        from backtriage.batch.screen import NoteScreener

        screener = NoteScreener()
        for batch in source.batches(1000):
            for note_id, text in zip(
                batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True
            ):
                if str(note_id) in pending:
                    row = screener.screen(str(note_id), text, full=True)
                    if row.get("red_flags") and row.get("assessment"):
                        pending.discard(str(note_id))
                        write(str(note_id), row["assessment"])
    return len(written)


def bundle_file_name(note_id: str) -> str:
    """A file name for a note's bundle that cannot leave the folder or hide: the id with every
    character but letters, digits, '-' and '_' percent-encoded (a long id is cut and keeps a hash
    of the whole, so two ids never share a name)."""
    name = quote(note_id, safe="").replace(".", "%2E").replace("~", "%7E") or "%00"
    if len(name) > 120:
        name = f"{name[:100]}-{hashlib.sha256(note_id.encode()).hexdigest()[:16]}"
    return f"{name}.json"


class _Clock:
    """When screening began (the reader loaded), and the notes done by then (a resumed run's)."""

    def __init__(self) -> None:
        self.began: float | None = None
        self.notes = 0
        self._notes_before = 0

    def start(self) -> None:
        self.began, self._notes_before = time.perf_counter(), self.notes

    def rate(self, notes: int) -> float:
        """Notes screened a second since screening began."""
        if self.began is None:
            return 0.0
        return (notes - self._notes_before) / max(time.perf_counter() - self.began, 1e-6)


@app.command("screen-report")
def screen_report(
    output: Annotated[Path, typer.Argument(help="The rows an earlier `screen` wrote.")],
    report: Annotated[Path, typer.Option("--report", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    notes: Annotated[
        list[Path] | None,
        typer.Option(
            "--notes", help="The notes the run screened (as given to it), for excerpts of each note shown."
        ),
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="With --notes: the column of ids.")] = None,
    text_column: Annotated[str | None, typer.Option(help="With --notes: the column of text.")] = None,
    unflagged: Annotated[
        int, typer.Option(min=0, help="Notes without red flags to list, chosen at random (--seed).")
    ] = 20,
    seed: Annotated[int, typer.Option(help="Seed for the random notes: the same seed, the same notes.")] = 0,
) -> None:
    """Write the HTML report of an earlier `backtriage screen` run."""
    from backtriage.batch.files import printable
    from backtriage.batch.report import write_report
    from backtriage.batch.sources import NoteSource

    if not output.exists():
        fail(f"{printable(str(output))}: no such file", ExitCode.INVALID_INPUT)
    try:
        source = NoteSource(notes, id_column, text_column) if notes else None
        write_report(output, report, notes=source, unflagged=unflagged, seed=seed)
    except BacktriageError as exc:
        fail(str(exc), exc.exit_code)
    stdout_console().print(f"report -> {report}", highlight=False)


def _report(
    summary: RunSummary,
    output: Path,
    seconds: float,
    report: Path | None,
    source: NoteSource,
    unflagged: int,
    seed: int,
    loading: float | None = None,
) -> None:
    if report is not None:
        from backtriage.batch.report import write_report

        write_report(output, report, seconds, notes=source, unflagged=unflagged, seed=seed, loading=loading)
    urgencies = ", ".join(f"{u} {n}" for u, n in sorted(summary.by_urgency.items()))
    stdout_console().print(
        f"{summary.notes} notes in {seconds:.1f} s: {summary.flagged} with red flags, "
        f"{summary.discordant} discordant, {summary.errors} unreadable ({urgencies}) -> {output}",
        highlight=False,
    )
    if summary.errors:
        raise typer.Exit(int(ExitCode.SOME_CASES_FAILED))
