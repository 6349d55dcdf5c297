"""Who reads a response's words: the language a call asks for (`lang`, a region may follow:
`es-MX`), else the service's (BACKTRIAGE_LANG). Only words change with it (`disclaimer`,
`explanation`, `why_asked`, `stopped`, and the words beside the ids: names, labels, questions,
advice) and the emergency number they give; ids, codes, probabilities and urgencies never do."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from backtriage.domain.assessment import Assessment
from backtriage.domain.interview import Question
from backtriage.interfaces.presentation import languages, localise
from backtriage.interfaces.presentation.languages import Locale
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["LANG_DESCRIPTION", "Reader", "reader"]

LANG_DESCRIPTION = (
    "The language of the words: en or es (default: the service's, BACKTRIAGE_LANG). A region may "
    "follow (es-MX): where the service maps locales to emergency numbers, it chooses the number."
)


@dataclass(frozen=True)
class Reader:
    locale: Locale
    kb: KnowledgeBase
    emergency_number: str

    def assessment(self, a: Assessment) -> Assessment:
        if self.locale.language == languages.DEFAULT_LANGUAGE and self.emergency_number == a.emergency_number:
            return a
        return localise.assessment(self.kb, a, self.emergency_number)

    def question(self, q: Question) -> Question:
        return q if self.locale.language == languages.DEFAULT_LANGUAGE else localise.question(self.kb, q)


def reader(request: Request, kb: KnowledgeBase, lang: str | None) -> Reader:
    """The reader asked for; an unknown language is an InvalidInputError (422)."""
    settings = request.app.state.settings
    locale = languages.parse_locale(lang if lang is not None else settings.language)
    number = settings.emergency_number_for(locale.language, locale.region)
    return Reader(locale, languages.knowledge(kb, locale.language), number)
