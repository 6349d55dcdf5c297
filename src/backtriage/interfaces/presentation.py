"""What a person is shown, in plain words, for every interface: the outcome and the action first,
then the safety net, then the likely causes as "about N in 10" with the answers behind them.

The web page and the terminal build their views from here, so the wording is decided once. All
user-facing text goes through `_` (gettext): a second language is a folder of translations
(`backtriage/locale/<lang>/LC_MESSAGES/backtriage.po`), not a code branch.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Any

from backtriage.domain.assessment import Assessment, EvidenceItem
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase

if TYPE_CHECKING:
    from backtriage.text.understand import TextFindings

__all__ = [
    "CONDITION_FIELDS",
    "CauseView",
    "conditions_listing",
    "findings_listing",
    "parse_view",
    "top_causes",
    "UrgencyView",
    "answers_given",
    "causes",
    "dermatome",
    "share_in_ten",
    "summary_text",
    "translations",
    "urgency_view",
]


#: What a conditions listing shows of each condition (the API, `backtriage conditions`).
CONDITION_FIELDS = {"id", "name", "lay_name", "icd10", "prior", "base_urgency", "description"}


def findings_listing(kb: KnowledgeBase) -> dict[str, Any]:
    """The findings backtriage understands, as the API and `backtriage findings` give them."""
    rows = [f.model_dump(mode="json", exclude_defaults=True) for f in kb.findings.values()]
    return {"kb_version": kb.version, "findings": rows}


def conditions_listing(kb: KnowledgeBase) -> dict[str, Any]:
    rows = [c.model_dump(mode="json", include=CONDITION_FIELDS) for c in kb.conditions.values()]
    return {"kb_version": kb.version, "conditions": rows}


def parse_view(found: TextFindings) -> dict[str, Any]:
    """What a text was read as: the answers, then every mention with its context."""
    assert found.reading is not None
    return {"answers": found.answers, **found.reading.model_dump(mode="json")}


def top_causes(a: Assessment, top: int) -> Assessment:
    """The assessment with only the `top` most likely causes (0 = all)."""
    return a.model_copy(update={"conditions": a.conditions[:top]}) if top > 0 else a


def translations(language: str = "en") -> gettext.NullTranslations:
    """The message catalogue for `language`; the English source text when there is none."""
    folder = str(resources.files("backtriage") / "locale")
    return gettext.translation("backtriage", folder, languages=[language], fallback=True)


_ = translations().gettext


@dataclass(frozen=True)
class UrgencyView:
    """The outcome in words, an icon (never colour alone) and the style it is drawn in."""

    level: str
    headline: str
    action: str
    icon: str
    style: str


def urgency_view(a: Assessment) -> UrgencyView:
    number = a.emergency_number
    headline = {
        UrgencyLevel.EMERGENCY: _("Emergency: call %(number)s now") % {"number": number},
        UrgencyLevel.URGENT: _("Urgent: see a doctor today"),
        UrgencyLevel.ROUTINE: _("See a GP or physiotherapist in the next days or weeks"),
        UrgencyLevel.SELF_CARE: _("You can look after this at home"),
    }[a.urgency]
    icon = {
        UrgencyLevel.EMERGENCY: "!",
        UrgencyLevel.URGENT: "!",
        UrgencyLevel.ROUTINE: "i",
        UrgencyLevel.SELF_CARE: "\u2713",
    }[a.urgency]
    action = next((item.text for item in a.advice if item.kind == "action"), "")
    return UrgencyView(a.urgency.value, headline, action, icon, a.urgency.value.replace("_", "-"))


def share_in_ten(probability: float) -> str:
    """A probability as people read it best: "about 3 in 10" (natural frequencies)."""
    tenths = round(probability * 10)
    if tenths == 0:
        return _("fewer than 1 in 10")
    if tenths == 10:
        return _("more than 9 in 10")
    return _("about %(n)d in 10") % {"n": tenths}


@dataclass(frozen=True)
class CauseView:
    id: str
    name: str
    clinical_name: str
    share: str
    probability: float
    because: list[str] = field(default_factory=list)
    against: list[str] = field(default_factory=list)
    level: str | None = None


def causes(a: Assessment, top: int = 3) -> list[CauseView]:
    """The likely causes in plain words, each with the answers for and against it."""
    return [
        CauseView(
            id=c.id,
            name=c.lay_name,
            clinical_name=c.name,
            share=share_in_ten(c.probability),
            probability=c.probability,
            because=[_said(e) for e in c.evidence_for[:4]],
            against=[_said(e) for e in c.evidence_against[:3]],
            level=c.level,
        )
        for c in a.conditions[:top]
    ]


def _said(e: EvidenceItem) -> str:
    """An answer as the person gave it: "numbness is persistent: no"."""
    return e.label if e.present else _("%(finding)s: no") % {"finding": e.label}


def still_to_ask(a: Assessment) -> list[str]:
    """The red-flag questions nothing has answered yet, in plain words (a text rarely answers
    them all); none once the result is an emergency, when the only message is to get help."""
    if a.urgency is UrgencyLevel.EMERGENCY:
        return []
    return [p.question for p in a.pending_red_flags]


def how_to_answer() -> list[str]:
    """Where the open red-flag questions can be answered, one line per way in."""
    return [
        _("in a terminal: backtriage interview"),
        _("in a browser: run backtriage serve and open http://127.0.0.1:8000/"),
        _("through the HTTP API: POST /v1/interviews, then answer each question"),
    ]


def advice(a: Assessment, kind: str) -> list[str]:
    return [item.text for item in a.advice if item.kind == kind]


def answers_given(kb: KnowledgeBase, answers: dict[str, bool | None]) -> list[tuple[str, str]]:
    """Each answer as (what it is about, yes / no / not sure), in the knowledge base's order."""
    words = {True: _("yes"), False: _("no"), None: _("not sure")}
    return [(f.label, words[answers[f.id]]) for f in kb.findings.values() if f.id in answers]


#: Root levels with a dermatome picture.
DERMATOMES = ("L4", "L5", "S1")


def dermatome(a: Assessment) -> str | None:
    """The nerve root the pattern fits (L4, L5 or S1), from the leading causes, if any."""
    for c in a.conditions[:3]:
        if c.level in DERMATOMES:
            return c.level
    return None


def summary_text(kb: KnowledgeBase, a: Assessment, answers: dict[str, bool | None], day: date) -> str:
    """The summary to take to a clinician, as plain text."""
    view = urgency_view(a)
    lines = [
        _("backtriage summary, %(day)s") % {"day": day.isoformat()},
        "",
        _("Outcome: %(headline)s") % {"headline": view.headline},
        view.action,
        "",
        _("Why:"),
        *(f"- {r.summary}" for r in a.urgency_reasons),
        "",
        _("Likely causes:"),
        *(f"- {c.name} ({c.clinical_name}): {c.share}" for c in causes(a)),
        "",
        _("Answers given:"),
        *(f"- {label}: {value}" for label, value in answers_given(kb, answers)),
        "",
        _("Knowledge base %(version)s. %(disclaimer)s")
        % {"version": a.kb_version, "disclaimer": a.disclaimer},
    ]
    return "\n".join(lines) + "\n"
