"""`backtriage screen` never stops for one entry, never loses or overwrites data, and never
prints note text: each bad input below becomes an error row with its place, or a clear exit-2
message for a whole-run problem, never exit 70."""

from __future__ import annotations

import codecs
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from backtriage.batch import embedded
from backtriage.batch.sources import NoteSource
from backtriage.errors import InvalidInputError
from backtriage.interfaces.cli import app

runner = CliRunner()
LINUX = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
NOTE = "LBP 2 weeks. Denies saddle anaesthesia. Plan: naproxen, physio."
SECRET = "Patient Jane Roe reports saddle anaesthesia"


def _rows(source: NoteSource) -> list[dict[str, Any]]:
    return [row for batch in source.batches(3) for row in batch.to_pylist()]


def _jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": f"n{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    return path


class InlinePool(Executor):
    """Runs each batch here and now. A batch with a note holding `kill` breaks the pool, as a
    worker killed by the kernel would, `times` times over all pools."""

    def __init__(self, kill: str, times: list[int]) -> None:
        self.kill, self.times, self.broken = kill, times, False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self.broken:
            raise BrokenProcessPool("a worker died")
        future: Future[Any] = Future()
        batch = next(a for a in args if isinstance(a, pa.RecordBatch))
        if self.times[0] and any(self.kill in (t or "") for t in batch.column("text").to_pylist()):
            self.times[0] -= 1
            self.broken = True
            future.set_exception(BrokenProcessPool("a worker died"))
            return future
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed back like a worker's error
            future.set_exception(exc)
        return future


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Batches screened in this process (so patches reach them); returns the kill budget."""
    times = [0]
    monkeypatch.setattr(
        embedded, "_new_pool", lambda workers, ready=None: InlinePool("KILL", times), raising=False
    )
    return times


def _screen(*args: str | Path) -> Any:
    return runner.invoke(app, ["screen", *map(str, args), "--workers", "1", "--batch-size", "2"])


# ---- 1. never overwrite an input or an earlier output ----------------------------------------
@pytest.mark.parametrize("where", ["same", "symlink", "inside-folder", "hard-link"])
def test_the_output_is_never_one_of_the_inputs(tmp_path: Path, where: str) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", [NOTE])
    before = notes.read_bytes()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text(NOTE)
    inputs: list[Path] = [notes]
    if where == "same":
        output = notes
    elif where == "symlink":
        output = tmp_path / "alias.jsonl"
        output.symlink_to(notes)
    elif where == "hard-link":
        output = tmp_path / "hard.jsonl"
        os.link(notes, output)
    else:
        inputs, output = [folder], folder / "flags.csv"
    for overwrite in ([], ["--overwrite"]):
        result = _screen(*inputs, "-o", output, *overwrite)
        assert result.exit_code == 2, result.output
        assert "input" in result.stderr and "somewhere else" in result.stderr, result.output
        assert notes.read_bytes() == before
    assert not (folder / "flags.csv").exists() and not (folder / "flags.csv.parts").exists()


def test_an_existing_output_or_report_needs_overwrite(tmp_path: Path, inline: list[int]) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", [NOTE])
    output, report = tmp_path / "flags.csv", tmp_path / "report.html"
    output.write_text("earlier results")
    refused = _screen(notes, "-o", output)
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert output.read_text() == "earlier results"
    output.unlink()
    report.write_text("earlier report")
    assert _screen(notes, "-o", output, "--report", report).exit_code == 2
    assert report.read_text() == "earlier report" and not output.exists()
    output.write_text("earlier results")
    replaced = _screen(notes, "-o", output, "--report", report, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert output.read_text().startswith("id,") and "<svg" in report.read_text()


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", [NOTE])
    (tmp_path / "flags.parquet").mkdir()
    for output in (tmp_path / "flags.parquet", tmp_path):
        result = _screen(notes, "-o", output)
        assert result.exit_code == 2 and "folder" in result.stderr, result.output


# ---- 2. one bad entry is an error row, never the end of the run ------------------------------
@pytest.mark.parametrize("quoted", [True, False])
def test_a_csv_field_over_16_mb_is_an_error_row(tmp_path: Path, quoted: bool) -> None:
    big = ("numb back\n" if quoted else "numb back ") * (17 * 1024 * 1024 // 10)
    field = f'"{big}"' if quoted else big
    path = tmp_path / "notes.csv"
    path.write_text(f'id,text\nA1,"{NOTE}"\nA2,{field}\nA3,"{NOTE}"\n')
    rows = _rows(NoteSource([path]))
    assert [r["id"] for r in rows] == ["A1", "notes.csv:2", "A3"]
    assert "over 16 MB" in rows[1]["error"] and rows[1]["text"] is None
    assert rows[0]["error"] is rows[2]["error"] is None


def _read_within(source: NoteSource, fifo: Path, seconds: float = 20) -> list[dict[str, Any]]:
    """The rows, or a failure if reading blocks (a FIFO opened for reading waits for a writer:
    it is released here so the test ends either way)."""
    result: list[list[dict[str, Any]]] = []
    reader = threading.Thread(target=lambda: result.append(_rows(source)), daemon=True)
    reader.start()
    reader.join(seconds)
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(seconds)
        pytest.fail("reading the folder blocked on a FIFO")
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_links_and_special_files_in_a_folder_are_error_rows(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text(NOTE)
    (folder / "b-loop.txt").symlink_to(folder / "b-loop.txt")
    (folder / "c-dangling.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(folder / "d-pipe.txt")
    os.close(os.open(os.fsencode(folder) + b"/e-\xff.txt", os.O_CREAT | os.O_WRONLY))
    source = NoteSource([folder])
    assert len(source.fingerprint()) == 5 and source.count() == 5
    rows = _read_within(source, folder / "d-pipe.txt")
    assert [r["id"] for r in rows] == ["a", "b-loop", "c-dangling", "d-pipe", "e-\ufffd"]
    assert rows[0]["error"] is None and rows[0]["text"] == NOTE
    assert "could not be read" in rows[1]["error"] and "could not be read" in rows[2]["error"]
    assert "not a regular file" in rows[3]["error"] and rows[4]["error"] == "the note has no text"


def test_a_fifo_given_as_input_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "notes.csv"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match="not a regular file"):
        NoteSource([fifo])


@pytest.mark.parametrize("damage", ["empty", "binary", "truncated", "damaged inside"])
def test_an_unreadable_parquet_file_is_an_error_row(tmp_path: Path, damage: str) -> None:
    bad = tmp_path / "bad.parquet"
    rows_sql = "SELECT 'p' || i AS id, repeat('note ', 50) || i AS text FROM range(20000) t(i)"
    duckdb.sql(f"COPY ({rows_sql}) TO '{bad}' (ROW_GROUP_SIZE 5000)")
    whole = bad.read_bytes()
    middle = len(whole) // 2
    bad.write_bytes(
        {
            "empty": b"",
            "binary": bytes(range(256)) * 16,
            "truncated": whole[:middle],
            "damaged inside": whole[:middle] + bytes(4096) + whole[middle + 4096 :],  # footer whole
        }[damage]
    )
    good = _jsonl(tmp_path / "good.jsonl", [NOTE])
    rows = _rows(NoteSource([bad, good]))
    *read, failed, last = rows
    assert all(r["id"].startswith("p") and r["error"] is None for r in read)  # the rows before the damage
    assert failed["id"].startswith("bad.parquet") and "could not be read as Parquet" in failed["error"]
    assert last["id"] == "n0" and last["error"] is None
    if damage != "damaged inside":
        assert NoteSource([bad, good]).count() == 2


@pytest.mark.parametrize("where", ["part", "output"])
def test_a_full_disk_stops_the_run_with_a_clear_message(
    tmp_path: Path, inline: list[int], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_duckdb(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException('Could not write file "x": No space left on device')

    if where == "part":
        monkeypatch.setattr(embedded.pq, "write_table", full)
    else:
        monkeypatch.setattr(embedded, "_copy", full_duckdb, raising=False)
    notes = _jsonl(tmp_path / "notes.jsonl", [NOTE] * 3)
    output = tmp_path / "flags.parquet"
    result = _screen(notes, "-o", output)
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr and "bug" not in result.stderr
    assert not output.exists() and list(tmp_path.glob("*.partial")) == []


def test_a_batch_that_keeps_killing_its_worker_becomes_error_rows(tmp_path: Path, inline: list[int]) -> None:
    inline[0] = 2  # killed in the first pool, and again when retried alone in a fresh one
    notes = _jsonl(tmp_path / "notes.jsonl", [NOTE, NOTE, NOTE, "KILL " + NOTE, NOTE])
    output = tmp_path / "flags.parquet"
    result = _screen(notes, "-o", output)
    assert result.exit_code == 4, result.output
    rows = duckdb.sql(f"SELECT id, error FROM read_parquet('{output}')").fetchall()
    assert [r[0] for r in rows] == [f"n{i}" for i in range(5)]
    assert [r[1] is None for r in rows] == [True, True, False, False, True]
    assert "stopped" in rows[2][1] and inline[0] == 0


def _children(pid: int) -> list[int]:
    """The worker processes of `pid` (not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def running_screen(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, list[int]]]:
    """`backtriage screen` of 600 notes in its own process, once its worker has written a part;
    every process it started is ended afterwards, whatever the test did."""
    notes = _jsonl(tmp_path / "notes.jsonl", [NOTE] * 600)
    output = tmp_path / "flags.parquet"
    command = [sys.executable, "-m", "backtriage", "screen", str(notes), "-o", str(output)]
    log = (tmp_path / "screen.log").open("wb")
    process = subprocess.Popen(
        [*command, "--workers", "1", "--batch-size", "10"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        parts = tmp_path / "flags.parquet.parts"
        assert _wait_for(lambda: any(parts.glob("part-*.parquet")), 120), "no part was written"
        workers.extend(_children(process.pid))
        assert workers, "no worker process found"
        yield process, output, workers
    finally:
        for pid in [process.pid, *workers, *_children(process.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        log.close()


@LINUX
@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_run_finishes(
    running_screen: tuple[subprocess.Popen[bytes], Path, list[int]],
) -> None:
    process, output, workers = running_screen
    os.kill(workers[0], signal.SIGKILL)
    process.wait(timeout=300)
    assert process.returncode == 0, (output.parent / "screen.log").read_text(errors="replace")
    rows = duckdb.sql(f"SELECT id, error FROM read_parquet('{output}')").fetchall()
    assert [r[0] for r in rows] == [f"n{i}" for i in range(600)] and all(r[1] is None for r in rows)


@LINUX
@pytest.mark.slow
def test_workers_end_when_screen_is_killed(
    running_screen: tuple[subprocess.Popen[bytes], Path, list[int]],
) -> None:
    process, _output, workers = running_screen
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert _wait_for(lambda: not any(_alive(pid) for pid in workers), 20), "workers outlived screen"


# ---- 3. no note text, and no control characters, in any message ------------------------------
def test_messages_never_quote_note_text(tmp_path: Path) -> None:
    headerless = tmp_path / "n.csv"
    headerless.write_text(f'1,"{SECRET}"\n')
    result = _screen(headerless, "-o", tmp_path / "o.parquet")
    assert result.exit_code == 2 and "no header" in result.stderr, result.output
    assert "Jane" not in result.output and "saddle" not in result.output
    escapes = tmp_path / "e.csv"
    escapes.write_text("id,\x1b[2J\x1b]0;owned\x07\n1,x\n")
    result = _screen(escapes, "-o", tmp_path / "o.parquet", "--text-column", "\x1b[31mnote")
    assert result.exit_code == 2 and "\\x1b" in result.stderr
    assert "\x1b" not in result.output and "\x07" not in result.output


@pytest.mark.parametrize(
    ("names", "shown"), [(["id", "remarks"], "columns: id, remarks"), (["id", SECRET], "2 columns")]
)
def test_columns_are_named_only_when_they_look_like_a_header(
    tmp_path: Path, names: list[str], shown: str
) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text(json.dumps(dict.fromkeys(names, "x")) + "\n")
    with pytest.raises(InvalidInputError) as caught:
        _rows(NoteSource([path]))
    assert shown in str(caught.value) and "Jane" not in str(caught.value)


# ---- 4. folders that cannot be listed, encodings, empty inputs, odd column names -------------
def test_a_subfolder_that_cannot_be_listed_is_an_error_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "x.txt").write_text(NOTE)
    (folder / "y.txt").write_text(NOTE)
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    rows = _rows(NoteSource([folder]))
    assert [r["id"] for r in rows] == ["locked", "y"]
    assert "could not be listed" in rows[0]["error"] and rows[1]["error"] is None


def test_text_is_decoded_by_its_byte_order_mark(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "le.txt").write_bytes(NOTE.encode("utf-16"))
    (folder / "be.txt").write_bytes(codecs.BOM_UTF16_BE + NOTE.encode("utf-16-be"))
    (folder / "sig.txt").write_bytes(NOTE.encode("utf-8-sig"))
    wide = tmp_path / "wide.csv"
    wide.write_bytes(f'id,text\r\nw1,"{NOTE}"\r\n'.encode("utf-16"))
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        b'id,text\nm1,"' + NOTE.encode("utf-16") + b'"\nm2,"' + NOTE.encode() + b'"\nm3,"\xff bad"\n'
    )
    rows = _rows(NoteSource([folder, wide, mixed]))
    assert [r["id"] for r in rows] == ["be", "le", "sig", "w1", "m1", "m2", "m3"]
    assert [r["text"] for r in rows[:5]] == [NOTE] * 4 + [None] and rows[5]["text"] == NOTE
    assert "not UTF-8" in rows[4]["error"] and "not UTF-8" in rows[6]["error"]


def test_no_notes_give_a_valid_empty_file(tmp_path: Path, inline: list[int]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("id,text\n")
    output = tmp_path / "flags.parquet"
    result = _screen(empty, "-o", output)
    assert result.exit_code == 0, result.output
    columns = [r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{output}')").fetchall()]
    assert columns[:3] == ["id", "urgency", "red_flags"] and "error" in columns
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{output}')").fetchall() == [(0,)]


def test_parquet_column_names_are_quoted(tmp_path: Path) -> None:
    path = tmp_path / "n.parquet"
    names = '"the ""id""", \'numb\' AS "note\'s ""text"""'
    duckdb.sql(f"COPY (SELECT 'q1' AS {names}) TO '{path}'")
    rows = _rows(NoteSource([path], id_column='the "id"', text_column='note\'s "text"'))
    assert [(r["id"], r["text"], r["error"]) for r in rows] == [("q1", "numb", None)]
