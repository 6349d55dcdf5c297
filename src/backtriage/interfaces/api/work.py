"""Work done in worker threads: a fixed number of slots, and calls that can be given up on safely.

A thread cannot be stopped from outside, so a caller that stops waiting leaves its thread running.
Two things follow. The thread keeps its work slot until it really ends (anyio's limiter frees it
when the waiting task is cancelled, which let more calls run at once than allowed). And the
thread must not store what nobody will hear about: each call carries a commit gate that the
caller closes when it gives up (`backtriage.storage.gate`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from backtriage.storage.gate import CallAbandoned, CommitGate, guarded_by

__all__ = ["Call", "NoSlot", "WorkSlots"]

T = TypeVar("T")


class NoSlot(Exception):
    """No work slot came free within the call's time budget; the work was never started."""


class WorkSlots:
    """At most `size` calls worked on at once; the rest wait in arrival order. Taken and given
    back by the worker threads themselves, so a slot is held exactly as long as its work runs."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        """How many threads wait for a slot."""
        with self._changed:
            return len(self._queue)

    def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a slot, behind every thread that came earlier."""
        deadline = time.monotonic() + timeout
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or not self._free:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                self._free -= 1
                return True
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()  # the next in line may now go

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()


class Call(Generic[T]):
    """One piece of work for a worker thread, within a deadline; keeps its outcome, so a caller
    that timed out while the write was being committed can still collect it."""

    def __init__(self, work: Callable[[], T], slots: WorkSlots, budget: float) -> None:
        self._work, self._slots = work, slots
        self._deadline = time.monotonic() + budget
        self.gate = CommitGate()
        self.finished = threading.Event()
        self._outcome: tuple[T] | BaseException = NoSlot()

    def run(self) -> None:
        """In the worker thread: wait for a slot, then work, holding the slot to the end."""
        try:
            if self._slots.acquire(self._deadline - time.monotonic()):
                try:
                    self._outcome = (self._guarded(),)
                finally:
                    self._slots.release()
        except BaseException as exc:  # kept for the caller, who may still be waiting
            self._outcome = exc
        finally:
            self.finished.set()

    def _guarded(self) -> T:
        if self.gate.closed:
            raise CallAbandoned  # given up on while it waited for a slot: do nothing at all
        with guarded_by(self.gate):
            return self._work()

    def outcome(self) -> T:
        """The work's result, or its exception raised again (NoSlot if it never started)."""
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome[0]
