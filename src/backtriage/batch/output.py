"""Where the rows go, without losing anything on the way.

The output (and the report) is never one of the inputs, nor inside an input folder; an existing
one is replaced only when asked (`--overwrite`), and only once the new one is whole: every file
is written under a temporary name and then renamed over the target. A write that fails (a full
disk) stops the run with its reason, not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from backtriage.batch.files import printable
from backtriage.errors import InvalidInputError

__all__ = ["FORMATS", "cannot_write", "check_targets", "output_format", "parts_folder", "written_whole"]

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}

#: Reasons a write fails, recognised in DuckDB's messages too (which carry no error number).
_WRITE_ERRORS = [
    getattr(errno, name)
    for name in (
        "ENOSPC",
        "EDQUOT",
        "EFBIG",
        "EROFS",
        "EACCES",
        "EPERM",
        "EIO",
        "ENOENT",
        "ENOTDIR",
        "EISDIR",
    )
    if hasattr(errno, name)
]


def output_format(output: Path) -> str:
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise InvalidInputError(f"{printable(str(output))}: write to a .parquet, .csv or .jsonl file")
    return fmt


def parts_folder(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def check_targets(inputs: list[Path], output: Path, report: Path | None, overwrite: bool) -> None:
    """Refuse, before anything is read, a run that would write over data: over an input, into an
    input folder, into a folder, or over an earlier output without `--overwrite`. A killed run
    left no output (its parts are resumed), so resuming needs no `--overwrite`."""
    targets = [output, *([report] if report is not None else [])]
    for target in targets:
        if target.is_dir():
            raise InvalidInputError(
                f"{printable(str(target))} is a folder: give the name of the file to write"
            )
    output_format(output)
    if report is not None and _same(report, output):
        raise InvalidInputError("the report and the output are the same file: give them different names")
    for target in [*targets, parts_folder(output)]:
        _check_not_an_input(target, inputs)
    for target in targets:
        if (target.exists() or target.is_symlink()) and not overwrite:
            raise InvalidInputError(
                f"{printable(str(target))} already exists: give --overwrite to replace it"
            )


def _check_not_an_input(target: Path, inputs: list[Path]) -> None:
    for source in inputs:
        if _same(target, source):
            raise InvalidInputError(f"{printable(str(target))} is an input: write the output somewhere else")
        if source.is_dir() and Path(os.path.realpath(target)).is_relative_to(os.path.realpath(source)):
            raise InvalidInputError(
                f"{printable(str(target))} is inside an input folder ({printable(str(source))}): "
                "write the output somewhere else"
            )


def _same(first: Path, second: Path) -> bool:
    """The same file, by its real path or (hard links) its inode."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet)
        return False


@contextlib.contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """A temporary name next to `target` to write to, renamed over `target` when the block ends
    and removed if it fails: `target` is always the old file or the whole new one."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise


def cannot_write(target: Path, exc: BaseException, then: str = "") -> InvalidInputError:
    """The error that stops a run whose output cannot be written. The reason comes from the
    error number, or is recognised in DuckDB's words; the rest of a message is never shown."""
    number = getattr(exc, "errno", None)
    if not isinstance(number, int) or not number:
        number = next((n for n in _WRITE_ERRORS if os.strerror(n) in str(exc)), None)
    why = os.strerror(number) if number else type(exc).__name__
    return InvalidInputError(f"could not write {printable(str(target))}: {why}{then}")
