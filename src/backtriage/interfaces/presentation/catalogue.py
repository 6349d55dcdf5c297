"""The message catalogue every interface speaks through.

All words a person reads go through `_` (gettext). A second language is a folder of translations
(`backtriage/locale/<lang>/LC_MESSAGES/backtriage.po`), not a code branch. The catalogue in force
is looked up on every call, so a request (or a test) can switch it without reloading anything.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources

__all__ = ["gettext", "ngettext", "set_default", "translations", "using"]

_current: ContextVar[_gettext.NullTranslations | None] = ContextVar("backtriage_catalogue", default=None)
_default: list[_gettext.NullTranslations] = []


@lru_cache(maxsize=8)
def translations(language: str = "en") -> _gettext.NullTranslations:
    """The message catalogue for `language`; the English source text when there is none."""
    folder = str(resources.files("backtriage") / "locale")
    return _gettext.translation("backtriage", folder, languages=[language], fallback=True)


def _active() -> _gettext.NullTranslations:
    chosen = _current.get()
    if chosen is not None:
        return chosen
    return _default[0] if _default else translations()


def gettext(message: str) -> str:
    return _active().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active().ngettext(singular, plural, n)


@contextmanager
def using(catalogue: _gettext.NullTranslations) -> Iterator[None]:
    """Speak through `catalogue` in this context (a request, a thread, a test)."""
    token = _current.set(catalogue)
    try:
        yield
    finally:
        _current.reset(token)


def set_default(catalogue: _gettext.NullTranslations | None) -> None:
    """The catalogue for every context that has not chosen one (None: English again)."""
    _default[:] = [catalogue] if catalogue is not None else []
