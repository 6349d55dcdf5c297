"""JSON-lines batches: one record in, one result out, in order, nothing dropped.

A bad line becomes an output line with its ``id`` (if it had one), its line number and an
``error``; the batch goes on. With ``workers > 1`` lines are handled in separate processes, each
building its own engine and text pipeline once, in batches so that memory stays bounded for a
file of any length.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from backtriage.errors import BacktriageError, InvalidInputError

__all__ = ["Handler", "run_lines"]

#: Turns one record into its result, as a JSON object string.
Handler = Callable[[dict[str, Any]], str]

_BATCH = 512
_worker_handler: Handler | None = None


def _handle(number: int, line: str, handle: Handler) -> tuple[str, bool]:
    record_id: Any = None
    try:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise InvalidInputError("JSON nested too deeply") from None
        if not isinstance(record, dict):
            raise InvalidInputError("each line must be a JSON object")
        record_id = record.get("id")
        if record_id is None:
            raise InvalidInputError("missing 'id'")
        body = handle(record)
    except BacktriageError as exc:
        return json.dumps({"id": record_id, "line": number, "error": str(exc)}), True
    return '{"id":' + json.dumps(record_id) + "," + body[1:], False


def _init_worker(make_handler: Callable[[], Handler]) -> None:
    global _worker_handler
    _worker_handler = make_handler()


def _handle_in_worker(item: tuple[int, str]) -> tuple[str, bool]:
    assert _worker_handler is not None
    return _handle(item[0], item[1], _worker_handler)


def _numbered(stream: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def run_lines(
    path: Path, out: TextIO, make_handler: Callable[[], Handler], workers: int = 1
) -> tuple[int, int]:
    """Process every line of ``path`` ('-' = standard input); returns (failed, total).

    ``make_handler`` must be picklable (a module-level function or a partial of one) when
    ``workers > 1``.
    """
    stream = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    failed = total = 0
    with stream:
        items = _numbered(stream)
        if workers <= 1:
            handle = make_handler()
            results: Iterable[tuple[str, bool]] = (_handle(n, line, handle) for n, line in items)
            for text, bad in results:
                out.write(text + "\n")
                total += 1
                failed += bad
            return failed, total
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(make_handler,)) as pool:
            while batch := list(islice(items, _BATCH * workers)):
                for text, bad in pool.map(_handle_in_worker, batch, chunksize=32):
                    out.write(text + "\n")
                    total += 1
                    failed += bad
    return failed, total
