"""Every error backtriage raises on purpose.

::

    BacktriageError                 base class; carries an exit code for the CLI
    ├── InvalidInputError           the caller's input is wrong (exit 2)
    │   └── UnknownFindingError     an answer names a finding the knowledge base lacks
    ├── NotFoundError               no interview (or key) with that id (exit 2; HTTP 404)
    ├── ConflictError               e.g. answering a finished interview (exit 2; HTTP 409)
    └── KnowledgeBaseError          the knowledge base files are invalid (exit 3)

Anything else escaping the library is a bug; the CLI reports it without a traceback and
exits with `ExitCode.INTERNAL_ERROR`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum, StrEnum

__all__ = [
    "BacktriageError",
    "ConflictError",
    "NotFoundError",
    "ExitCode",
    "InputProblem",
    "InvalidInputError",
    "KnowledgeBaseError",
    "UnknownFindingError",
]


class ExitCode(IntEnum):
    """Process exit codes, so scripts can tell failures apart."""

    OK = 0
    INVALID_INPUT = 2
    KNOWLEDGE_BASE_INVALID = 3
    SOME_CASES_FAILED = 4
    INTERNAL_ERROR = 70


class InputProblem(StrEnum):
    """An input problem a person can meet and put right, named so that an interface can say it in
    the reader's language (the error's own message stays English, for the API and for logs)."""

    TEXT_TOO_LONG = "text_too_long"  # values: length, limit
    NO_SUCH_FILE = "no_such_file"  # values: name
    CANNOT_READ = "cannot_read"  # values: name
    NOT_UTF8 = "not_utf8"
    NOTHING_GIVEN = "nothing_given"
    INPUT_ENDED = "input_ended"  # values: resume (the command that goes on, or "")


class BacktriageError(Exception):
    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str = "",
        *,
        problem: InputProblem | None = None,
        values: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.values: dict[str, object] = dict(values or {})


class InvalidInputError(BacktriageError, ValueError):
    """The input cannot be assessed as given; the message names the problem."""

    exit_code = ExitCode.INVALID_INPUT


class UnknownFindingError(InvalidInputError):
    def __init__(self, finding_ids: Sequence[str], suggestions: dict[str, str] | None = None):
        self.finding_ids = list(finding_ids)
        hints = suggestions or {}
        named = ", ".join(
            f"'{f}'" + (f" (did you mean '{hints[f]}'?)" if f in hints else "") for f in self.finding_ids
        )
        super().__init__(f"unknown finding id {named}; run 'backtriage findings' for the list")


class NotFoundError(BacktriageError):
    exit_code = ExitCode.INVALID_INPUT


class ConflictError(BacktriageError):
    exit_code = ExitCode.INVALID_INPUT


class KnowledgeBaseError(BacktriageError):
    """The knowledge base failed validation; ``problems`` lists every problem found."""

    exit_code = ExitCode.KNOWLEDGE_BASE_INVALID

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        head = self.problems[0] if self.problems else "knowledge base is invalid"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(head + more)
