"""Speed of `backtriage screen` on generated notes of about 300 words.

    python benchmarks/bench_screen.py [--notes 2000] [--spark] [--large 100000]

Prints a table of:
- one core, in process: notes per second and per hour (the reader alone, no files);
- the embedded engine through the CLI with 1 and 2 worker processes: wall time, notes per
  second, notes per hour per core, output bytes per note, peak memory of the whole process tree;
- with --spark, Spark local mode with 1 and 2 cores, and the speed-up;
- with --large N, one end-to-end run of N notes (wall time, peak memory), beside the same at N/10,
  to show memory stays flat as the input grows.
Notes come from `make_notes.py` (words 250-350). Times include process and Spark start-up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_soak import rss_mib  # noqa: E402


def make(count: int, folder: Path) -> Path:
    path = folder / f"notes-{count}.parquet"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("make_notes.py")), str(count), "-o", str(path)]
            + ["--words", "250-350", "--seed", "7"],
            check=True,
            capture_output=True,
        )
    return path


def in_process(notes: Path, count: int) -> float:
    import duckdb

    from backtriage.batch.screen import NoteScreener

    screener = NoteScreener()
    rows = duckdb.sql(f"SELECT id, text FROM read_parquet('{notes}') LIMIT {count}").fetchall()
    screener.screen("warm", rows[0][1])
    start = time.perf_counter()
    for note_id, text in rows:
        screener.screen(note_id, text)
    return len(rows) / (time.perf_counter() - start)


def cli(notes: Path, out: Path, *options: str) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, all processes) of one `screen` run."""
    if out.exists():
        out.unlink()
    command = [sys.executable, "-m", "backtriage", "screen", str(notes), "-o", str(out), *options]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0.0]

    def watch() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], rss_mib(process.pid))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    code = process.wait()
    watcher.join()
    if code not in (0, 4):
        raise SystemExit(f"screen failed with exit code {code}")
    return time.perf_counter() - start, peak[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--large", type=int, default=0)
    args = parser.parse_args()
    rows: list[tuple[str, int, float, float, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        notes = make(args.notes, folder)
        sample = min(args.notes, 500)
        rate = in_process(notes, sample)
        rows.append(("one core, in process", sample, sample / rate, rate, f"{rate * 3600:,.0f}", "-"))
        for workers in (1, 2):
            out = folder / f"embedded-{workers}.parquet"
            seconds, peak = cli(notes, out, "--workers", str(workers))
            per_core = args.notes / seconds * 3600 / workers
            size = out.stat().st_size / args.notes
            rows.append(
                (
                    f"embedded, {workers} worker(s)",
                    args.notes,
                    seconds,
                    args.notes / seconds,
                    f"{per_core:,.0f}",
                    f"{size:.0f} B/note, {peak:.0f} MiB peak",
                )
            )
        if args.spark:
            spark_times = []
            for cores in (1, 2):
                out = folder / f"spark-{cores}.parquet"
                seconds, peak = cli(notes, out, "--engine", "spark", "--master", f"local[{cores}]")
                spark_times.append(seconds)
                rows.append(
                    (
                        f"spark local[{cores}]",
                        args.notes,
                        seconds,
                        args.notes / seconds,
                        f"{args.notes / seconds * 3600 / cores:,.0f}",
                        f"{peak:.0f} MiB peak",
                    )
                )
            print(f"spark speed-up, 2 cores over 1: {spark_times[0] / spark_times[1]:.2f}x")
        if args.large:
            for count in (args.large // 10, args.large):
                big = make(count, folder)
                seconds, peak = cli(big, folder / "large.parquet")
                cores = os.cpu_count() or 1
                rows.append(
                    (
                        f"end to end, {cores} workers",
                        count,
                        seconds,
                        count / seconds,
                        f"{count / seconds * 3600 / cores:,.0f}",
                        f"{peak:.0f} MiB peak",
                    )
                )
    print("| run | notes | seconds | notes/s | notes/hour/core | output, memory |\n|---|---|---|---|---|---|")
    for name, count, seconds, per_second, per_hour, extra in rows:
        print(f"| {name} | {count:,} | {seconds:.1f} | {per_second:.1f} | {per_hour} | {extra} |")
    print(f"\n{os.cpu_count()} CPUs; notes of 250-350 words from make_notes.py")
    print("targets: >= 200,000 notes/hour/core; Spark 2 cores >= 1.7x 1 core; <= 1 KB a note")
    return 0


if __name__ == "__main__":
    sys.exit(main())
