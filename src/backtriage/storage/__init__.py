"""The audit store: every interview, answer and assessment, with its inputs and result."""

from backtriage.storage.store import AuditStore

__all__ = ["AuditStore"]
