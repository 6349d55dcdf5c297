"""Input problems in the reader's words: what went wrong with what a person gave, and how to put
it right. The error keeps its English message for the API and for logs; an interface that knows
the reader's language says it with these."""

from __future__ import annotations

from collections.abc import Mapping

from backtriage.errors import BacktriageError, InputProblem
from backtriage.interfaces.presentation.catalogue import gettext as _
from backtriage.interfaces.presentation.catalogue import number

__all__ = ["error_label", "problem_words"]


def error_label() -> str:
    return _("error")


def problem_words(error: BacktriageError) -> str:
    """The error in the catalogue's current language when it names a known problem, else its
    own (English) message."""
    if error.problem is None:
        return str(error)
    return _said(error.problem, error.values)


def _said(problem: InputProblem, values: Mapping[str, object]) -> str:
    if problem is InputProblem.TEXT_TOO_LONG:
        return _(
            "the text is %(length)s characters long; the limit is %(limit)s. Split it into separate notes."
        ) % {
            "length": number(int(str(values.get("length", 0)))),
            "limit": number(int(str(values.get("limit", 0)))),
        }
    if problem is InputProblem.NO_SUCH_FILE:
        return _("%(name)s: no such file") % {"name": values.get("name", "")}
    if problem is InputProblem.CANNOT_READ:
        return _("%(name)s: cannot be read") % {"name": values.get("name", "")}
    if problem is InputProblem.NOT_UTF8:
        return _("standard input is not UTF-8 text")
    if problem is InputProblem.NOTHING_GIVEN:
        return _("give TEXT, --answers FILE, --example NAME or --jsonl FILE")
    resume = str(values.get("resume", ""))
    ended = _("no answer was given: the input ended")
    return ended + (" " + _("(continue with: %(command)s)") % {"command": resume} if resume else "")
