"""The message catalogue every interface speaks through.

All words a person reads go through `_` (gettext). A second language is a folder of translations
(`backtriage/locale/<lang>/LC_MESSAGES/backtriage.po`), not a code branch; the knowledge base's
words in that language are data too (`backtriage/knowledge/data/i18n/<lang>/`). The catalogue in force
is looked up on every call, so a request (or a test) can switch it without reloading anything.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources

__all__ = ["gettext", "language", "ngettext", "number", "set_default", "source", "translations", "using"]

_current: ContextVar[_gettext.NullTranslations | None] = ContextVar("backtriage_catalogue", default=None)
_default: list[_gettext.NullTranslations] = []


@lru_cache(maxsize=8)
def translations(language: str = "en") -> _gettext.NullTranslations:
    """The message catalogue for `language`; the English source text when there is none.

    A language ships as its `.po` file, the one its translators edit, compiled here once (Babel)
    on first use: no compiled `.mo` to fall out of step with it. Fuzzy entries are left out, as
    `msgfmt` would."""
    po = resources.files("backtriage") / "locale" / language / "LC_MESSAGES" / "backtriage.po"
    if language == "en" or not po.is_file():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # imported here: only another language needs it
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain="backtriage")
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def _active() -> _gettext.NullTranslations:
    chosen = _current.get()
    return chosen if chosen is not None else source()


def source() -> _gettext.NullTranslations:
    """The catalogue of the source language (English), or whatever `set_default` put in its place."""
    return _default[0] if _default else translations()


def language() -> str:
    """The language of the catalogue in use (its header's), English for the source text."""
    return str(_active().info().get("language", "en"))


def number(value: int) -> str:
    """A whole number as the catalogue's language writes it ("120,001"; "120.001")."""
    from babel.numbers import format_decimal  # Babel is already loaded with any translation

    return str(format_decimal(value, locale=language()))


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
