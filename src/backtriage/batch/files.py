"""Reading notes from disk without hanging, stopping or quoting them.

A folder is walked, not globbed, so that a subfolder that cannot be listed becomes an error row
instead of a silent gap. A note file is opened only if it is a regular file (a FIFO named
`x.txt` would block the run forever; opening a device can have side effects), and text is
decoded by its byte-order mark (UTF-8, UTF-16 little- or big-endian), never guessed into
garbage. Whatever is said about a file names its place and the reason, never its contents:
column names are shown only when they look like names, and control characters are escaped.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path

__all__ = [
    "NOTE_LIMIT",
    "UNDECODABLE",
    "clean_id",
    "columns_for_message",
    "encoding_of",
    "note_problem",
    "printable",
    "read_note_file",
    "reason",
    "walk_text_files",
]

#: The largest note read (and the largest CSV field): beyond it a record is an error row.
NOTE_LIMIT = 16 * 1024 * 1024

#: The codec error handler that marks undecodable bytes with a lone surrogate, which no decoded
#: text can hold, so the record they are in becomes an error row (Arrow refuses such strings).
UNDECODABLE = "backtriage.undecodable"


def _mark(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\udcff", error.end


codecs.register_error(UNDECODABLE, _mark)

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,39}")
NOT_REGULAR = "not a regular file (a pipe, device or socket): not opened"


def encoding_of(head: bytes) -> str:
    """The encoding its byte-order mark names; UTF-8 without one."""
    return next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")


def reason(exc: OSError) -> str:
    """Why a file could not be read, from its error number (a message could quote a path)."""
    return os.strerror(exc.errno) if exc.errno else type(exc).__name__


def walk_text_files(folder: Path) -> list[tuple[Path, str | None]]:
    """Every `.txt` file under `folder`, and every folder that could not be listed with the
    reason, in path order. Links to folders are not followed, so a loop cannot trap the walk."""
    found: list[tuple[Path, str | None]] = []

    def unlisted(exc: OSError) -> None:
        found.append((Path(exc.filename or folder), f"the folder could not be listed ({reason(exc)})"))

    for root, _folders, names in os.walk(folder, onerror=unlisted):
        found.extend((Path(root, name), None) for name in names if name.endswith(".txt"))
    return sorted(found, key=lambda entry: entry[0])


def read_note_file(path: Path) -> tuple[str | None, str | None]:
    """The text of a note file (undecodable bytes marked, for `note_problem`), or why it cannot
    be read. A special file is never opened; the check is made again on the open file, in case
    it was swapped in between."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None, NOT_REGULAR
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        with os.fdopen(os.open(path, flags), "rb") as fh:
            status = os.fstat(fh.fileno())
            if not stat.S_ISREG(status.st_mode):
                return None, NOT_REGULAR
            if status.st_size > NOTE_LIMIT:
                return None, "the note is over 16 MB"
            raw = fh.read(NOTE_LIMIT + 1)
    except OSError as exc:
        return None, f"the file could not be read ({reason(exc)})"
    return raw.decode(encoding_of(raw[:3]), errors=UNDECODABLE), None


def note_problem(text: str) -> str | None:
    """Why a decoded note cannot be screened, if it cannot: bytes that were not text, NULs (UTF-16
    read as UTF-8), or a size no note has."""
    if _SURROGATE.search(text):
        return "the note is not UTF-8 or UTF-16 text (bytes that cannot be decoded)"
    if "\x00" in text:
        return "the note is not UTF-8 text (it holds NUL characters: UTF-16 without a byte-order mark?)"
    if len(text) > NOTE_LIMIT:
        return "the note is over 16 MB"
    return None


def clean_id(value: str) -> str:
    """An id Arrow can store: undecodable parts (of a file name, say) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def printable(text: str) -> str:
    """`text` with control and invisible format characters escaped (\\x1b, \\u202e), so a message
    cannot move the cursor, recolour the terminal or reverse what follows it."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text
    )


def columns_for_message(names: list[str]) -> str:
    """The columns, for an error message. Names are shown only when every one looks like a
    column name: otherwise the first row is data (a file with no header) and could be a note."""
    if names and all(_NAME.fullmatch(name) for name in names):
        more = f", and {len(names) - 20} more" if len(names) > 20 else ""
        return f"columns: {', '.join(names[:20])}{more}"
    return f"{len(names)} columns, not named here: they look like data, so the file may have no header row"
