"""Which language a person reads: the languages there are, a language asked for by name (`--lang
es`, `"lang": "es-MX"`) or by a browser (`Accept-Language`), and the words of each.

A language is English (the source) or one with both a message catalogue
(`locale/<lang>/LC_MESSAGES/backtriage.po`) and the knowledge base's words
(`knowledge/data/i18n/<lang>/`). A locale is a language and, when known, a region (`es-MX`): the
region only ever chooses the emergency number (`Settings.emergency_number_for`), never the words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from backtriage.errors import InvalidInputError, KnowledgeBaseError
from backtriage.interfaces.presentation import catalogue
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.knowledge.translations import (
    Translation,
    available_languages,
    load_translation,
    localised,
    translations_dir,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "Locale",
    "knowledge",
    "languages",
    "locale_pattern",
    "negotiate",
    "parse_locale",
    "speaking",
    "translation",
]

_log = logging.getLogger(__name__)

#: The language the knowledge base and the catalogue's message ids are written in.
DEFAULT_LANGUAGE = "en"
#: A language tag as people and browsers write it: "es", "es-MX", "es_MX", "es-419".
_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?")


@dataclass(frozen=True)
class Locale:
    """A language and, when known, the region it is read in (which sets the emergency number)."""

    language: str = DEFAULT_LANGUAGE
    region: str | None = None

    @property
    def tag(self) -> str:
        return f"{self.language}-{self.region}" if self.region else self.language


def _has_catalogue(language: str) -> bool:
    po = resources.files("backtriage") / "locale" / language / "LC_MESSAGES" / "backtriage.po"
    return po.is_file()


@lru_cache(maxsize=8)
def translation(language: str) -> Translation:
    """The shipped knowledge base's words in `language` (not English), read and checked once."""
    return load_translation(language, load_knowledge_base())


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """The languages backtriage speaks, each by its name in itself, English first. A language
    whose words no longer fit the knowledge base is left out (and logged), so that a finding added
    in English never takes the service down; the shipped translations' test fails instead."""
    names = {DEFAULT_LANGUAGE: "English"}
    for code in available_languages():
        if not _has_catalogue(code):
            continue
        try:
            names[code] = translation(code).name
        except KnowledgeBaseError as exc:
            _log.warning("language %s left out: its knowledge-base words do not fit (%s)", code, exc)
    return names


def parse_locale(tag: str) -> Locale:
    """The locale a person or a caller asked for by name; an InvalidInputError, naming the
    languages there are, for a tag that is not one of them."""
    m = _TAG.fullmatch(tag)
    language = m.group(1).lower() if m else ""
    if language not in languages():
        raise InvalidInputError(
            f"unknown language '{tag[:20]}'; choose from {', '.join(languages())}"
            " (a region may follow, as in es-MX)"
        )
    region = m.group(2) if m else None
    return Locale(language, region.upper() if region else None)


def locale_pattern() -> str:
    """A regular expression matching exactly the tags `parse_locale` accepts (for a schema)."""
    names = "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in code) for code in languages())
    return rf"^({names})([-_]([A-Za-z]{{2}}|[0-9]{{3}}))?$"


def negotiate(accept_language: str | None, only: str | None = None) -> Locale | None:
    """The first language of an `Accept-Language` header that backtriage speaks (or the first
    entry for `only`), by the weights the browser gives (`es-MX,es;q=0.9,en;q=0.8`), with the
    region it named; None when it names none of them."""
    if not accept_language:
        return None
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        q = params.strip()
        if q.startswith("q="):
            try:
                weight = float(q[2:])
            except ValueError:
                continue
        if weight > 0:
            wanted.append((-weight, i, tag.strip()))
    for _, _, tag in sorted(wanted):
        m = _TAG.fullmatch(tag)
        if m and m.group(1).lower() in languages() and only in (None, m.group(1).lower()):
            region = m.group(2)
            return Locale(m.group(1).lower(), region.upper() if region else None)
    return None


@lru_cache(maxsize=16)
def _knowledge(kb: KnowledgeBase, language: str, folder: Path) -> KnowledgeBase:
    return localised(kb, load_translation(language, kb, folder))


def knowledge(kb: KnowledgeBase, language: str, kb_folder: Path | None = None) -> KnowledgeBase:
    """`kb` speaking `language`: the same ids, numbers and rules, the words of that language (read
    from `kb_folder`'s translations when it has them, the shipped ones otherwise)."""
    if language == DEFAULT_LANGUAGE:
        return kb
    folder = translations_dir(kb_folder)
    if kb_folder is None or not (folder / language).is_dir():
        folder = translations_dir()
    return _knowledge(kb, language, folder)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Every message of the catalogue in `language` within this context (English: the source
    catalogue, or what `catalogue.set_default` put in its place)."""
    chosen = catalogue.source() if language == DEFAULT_LANGUAGE else catalogue.translations(language)
    with catalogue.using(chosen):
        yield
