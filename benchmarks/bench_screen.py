"""Speed of `backtriage screen`, on generated notes of about 300 words or on a corpus of real ones.

    python benchmarks/bench_screen.py [--notes 2000] [--spark] [--large 100000]
    python benchmarks/bench_screen.py --corpus [FILE] [--volume 10000] [--spark] [--api]

With --corpus (default: the real-note sample beside the repository, shared/eval/notes), the notes
are replayed (repeated, with new ids) to --volume notes, and the run prints:
- the reader in this process, one core, with and without the pre-pass (prepass.py): characters
  per CPU-second and notes per hour per core, and whether every note's row is the same either
  way (the pre-pass must change nothing: each corpus note is compared);
- `backtriage screen` with 1 and 2 workers (and, with --spark, Spark local[1] and local[2]): wall
  time, notes per hour per core, speed-up, peak memory of the whole process tree;
- start-up: `backtriage assess "tingling in my back"`, wall time of a cold process (median of 3);
- 100-word texts beside medspaCy's default pipeline (bench_text.py), and with --api the HTTP API
  with a 60-word text (bench_api.py, needs wrk), in the same run.

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
import json
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


ROOT = Path(__file__).resolve().parent.parent
REAL_NOTES = ROOT.parent / "shared" / "eval" / "notes" / "mtsamples-dev.jsonl"


def replay(corpus: Path, volume: int, folder: Path) -> tuple[Path, list[dict[str, str]]]:
    """The corpus repeated (new ids) to `volume` notes, as JSON lines; and the corpus itself."""
    notes = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    notes = [{"id": str(n["id"]), "text": n["text"]} for n in notes if n.get("text")]
    path = folder / "replay.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(volume):
            note = notes[i % len(notes)]
            out.write(json.dumps({"id": f"{note['id']}-{i // len(notes)}", "text": note["text"]}) + "\n")
    return path, notes


def reader_rows(notes: list[dict[str, str]]) -> tuple[list[tuple[str, float, float]], int]:
    """(name, CPU seconds, characters per CPU-second) with and without the pre-pass, and how many
    notes' rows differ between the two."""
    from backtriage.batch.screen import NoteScreener

    chars = sum(len(n["text"]) for n in notes)
    rows, results = [], {}
    for skim in (False, True):
        screener = NoteScreener(skim=skim)
        for note in notes[:50]:  # warm: the first notes build caches either way
            screener.screen(note["id"], note["text"])
        start = time.process_time()
        results[skim] = [screener.screen(n["id"], n["text"]) for n in notes]
        seconds = time.process_time() - start
        name = "with the pre-pass" if skim else "every sentence read"
        rows.append((name, seconds, chars / seconds))
    differing = sum(a != b for a, b in zip(results[False], results[True], strict=True))
    return rows, differing


def cold_start(runs: int = 3) -> float:
    """Median wall seconds of `backtriage assess "tingling in my back"` in a new process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "backtriage", "assess", "tingling in my back"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def corpus_mode(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus) if args.corpus != "default" else REAL_NOTES
    if not corpus.exists():
        print(f"corpus not found: {corpus.name} (looked beside the repository in shared/eval/notes)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, notes = replay(corpus, args.volume, folder)
        mean = sum(len(n["text"]) for n in notes) / len(notes)
        print(f"corpus: {len(notes):,} notes, mean {mean:,.0f} characters; replayed to {args.volume:,}\n")
        rows, differing = reader_rows(notes)
        print("| reader, one core, in process | CPU s | characters/CPU-s | notes/hour/core |")
        print("|---|---|---|---|")
        for name, seconds, rate in rows:
            print(f"| {name} | {seconds:.1f} | {rate:,.0f} | {len(notes) / seconds * 3600:,.0f} |")
        print(f"\npre-pass speed-up {rows[0][1] / rows[1][1]:.2f}x; notes whose rows differ: {differing}")
        print("\n| backtriage screen | notes | wall s | notes/hour/core | speed-up | peak MiB |")
        print("|---|---|---|---|---|---|")
        runs = [("1 worker", ["--workers", "1"], 1), ("2 workers", ["--workers", "2"], 2)]
        if args.spark:
            runs += [
                (f"spark local[{c}]", ["--engine", "spark", "--master", f"local[{c}]"], c) for c in (1, 2)
            ]
        first: dict[str, float] = {}
        for name, options, cores in runs:
            seconds, peak = cli(path, folder / "out.parquet", *options)
            kind = "spark" if name.startswith("spark") else "embedded"
            first.setdefault(kind, seconds)
            per_core = args.volume / seconds * 3600 / cores
            print(
                f"| {name} | {args.volume:,} | {seconds:.1f} | {per_core:,.0f} | "
                f"{first[kind] / seconds:.2f}x | {peak:.0f} |"
            )
        print(f"\ncold start, backtriage assess (median of 3): {cold_start():.2f} s wall")
    bench = Path(__file__).resolve().parent
    print("\n100-word texts beside medspaCy's default (bench_text.py):")
    text_bench = [sys.executable, str(bench / "bench_text.py"), "--texts", "500", "--jsonl", "0"]
    subprocess.run(text_bench, check=False)
    if args.api:
        print("\nHTTP API (bench_api.py):")
        subprocess.run([sys.executable, str(bench / "bench_api.py")], check=False)
    print(f"\n{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print(
        "targets: >= 400,000 characters/CPU-s; 2 workers >= 1.8x one; Spark local[2] >= 1.7x "
        "local[1]; cold start <= 1.0 s; 100-word texts >= 8x medspaCy, p50 <= 3 ms"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--large", type=int, default=0)
    parser.add_argument("--corpus", nargs="?", const="default", help="replay a corpus of real notes")
    parser.add_argument("--volume", type=int, default=10_000, help="notes to replay the corpus to")
    parser.add_argument("--api", action="store_true", help="with --corpus, the HTTP API too (wrk)")
    args = parser.parse_args()
    if args.corpus:
        return corpus_mode(args)
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
