"""Logging that never carries what people wrote.

Patient text can reach a log in one way we do not control: an exception's message or traceback
(a validation error quotes its input, a database error its parameters, a traceback the values on
its lines). `NoContent` is a filter on every handler the server logs through: a record keeps its
own message and the type of each exception in its chain, and loses the exception itself. Our own
code logs only fixed messages and type names.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

__all__ = ["NoContent", "server_log_config"]


class NoContent(logging.Filter):
    """Reduce a record's exception to the names of the exception types in its chain."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({_type_chain(error)})" if error else record.getMessage()
            record.args = None
            record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def _type_chain(error: BaseException) -> str:
    """'OperationalError <- sqlite3.OperationalError': each cause or context, type only."""
    names: list[str] = []
    current: BaseException | None = error
    while current is not None and len(names) < 10:
        kind = type(current)
        names.append(kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}")
        current = current.__cause__ or current.__context__
    return " <- ".join(names)


def server_log_config(level: str = "warning") -> dict[str, Any]:
    """uvicorn's own logging set-up with `NoContent` on every handler and a root logger (for
    `backtriage.*` and libraries) that writes through the same filtered handler. No access log:
    a request line can hold whatever a client put in a URL."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"no_content": {"()": NoContent}}
    for handler in config["handlers"].values():
        handler["filters"] = ["no_content"]
    config["loggers"]["uvicorn.access"] = {"handlers": [], "level": "CRITICAL", "propagate": False}
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    return config
