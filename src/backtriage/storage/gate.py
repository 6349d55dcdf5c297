"""Commit only while the caller still waits for the answer.

An HTTP call runs in a worker thread within a time budget. Past it, the caller is told 503 and
may retry; had the thread gone on to store its record, the retry would store a second one. So a
call can carry a `CommitGate`: the store asks it inside every write transaction, after the
statements and right before COMMIT, and the caller closes it when it gives up. Whichever comes
first wins: either the write goes ahead and the caller waits for its outcome, or nothing is
stored. Outside such a call (the CLI, batch runs) there is no gate and every write goes ahead.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["CallAbandoned", "CommitGate", "before_commit", "guarded_by"]


class CallAbandoned(Exception):
    """The caller stopped waiting before this write was committed; it was rolled back."""


class _State(enum.Enum):
    OPEN = "open"
    COMMITTING = "committing"
    CLOSED = "closed"


class CommitGate:
    """One call's permission to commit, decided once, safely across threads."""

    def __init__(self) -> None:
        self._state = _State.OPEN
        self._lock = threading.Lock()

    def enter(self) -> bool:
        """The worker, right before committing: may it? If so the caller will wait for it."""
        with self._lock:
            if self._state is _State.CLOSED:
                return False
            self._state = _State.COMMITTING
            return True

    def close(self) -> bool:
        """The caller, giving up: True if nothing will be stored, False if a commit is already
        under way (the caller must then wait for the outcome)."""
        with self._lock:
            if self._state is _State.COMMITTING:
                return False
            self._state = _State.CLOSED
            return True

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED


_current: ContextVar[CommitGate | None] = ContextVar("backtriage_commit_gate", default=None)


@contextmanager
def guarded_by(gate: CommitGate) -> Iterator[None]:
    """Every write made inside the block (in this thread) asks `gate` before committing."""
    token = _current.set(gate)
    try:
        yield
    finally:
        _current.reset(token)


def before_commit() -> None:
    """Called by the store inside a write transaction, just before COMMIT: raises CallAbandoned
    (so the transaction rolls back) when the caller has given up."""
    gate = _current.get()
    if gate is not None and not gate.enter():
        raise CallAbandoned
