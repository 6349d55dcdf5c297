"""The four urgency levels, ordered so that `max()` picks the most urgent."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["UrgencyLevel"]


class UrgencyLevel(StrEnum):
    """How soon the person should be seen.

    Ordering is by clinical urgency (``SELF_CARE < ROUTINE < URGENT < EMERGENCY``), not by
    the alphabetical order a plain string enum would give.
    """

    SELF_CARE = "self_care"
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, UrgencyLevel):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, UrgencyLevel):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, UrgencyLevel):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, UrgencyLevel):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = StrEnum.__hash__


_RANK = {
    UrgencyLevel.SELF_CARE: 0,
    UrgencyLevel.ROUTINE: 1,
    UrgencyLevel.URGENT: 2,
    UrgencyLevel.EMERGENCY: 3,
}
