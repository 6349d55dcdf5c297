"""What a person is shown, for every interface: the outcome and the action first, then the
safety net, then the likely causes as "about N in 10" with the answers behind them.

The web page, the terminal and the summary lay out these views; the wording is decided here and
in `words`, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from backtriage.domain.assessment import Assessment, EvidenceItem, ReadingNote, UrgencyReasonKind
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces.presentation import words
from backtriage.interfaces.presentation.catalogue import gettext as _
from backtriage.interfaces.presentation.catalogue import ngettext
from backtriage.knowledge.loader import KnowledgeBase

if TYPE_CHECKING:
    from backtriage.text.understand import TextFindings

__all__ = [
    "CONDITION_FIELDS",
    "CauseView",
    "Explanation",
    "ResultView",
    "UrgencyView",
    "advice",
    "answers_given",
    "causes",
    "conditions_listing",
    "dermatome",
    "explanation",
    "findings_listing",
    "how_to_answer",
    "parse_view",
    "result_view",
    "share_in_ten",
    "still_to_ask",
    "top_causes",
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


@dataclass(frozen=True)
class UrgencyView:
    """The outcome in words, an icon (never colour alone) and the style it is drawn in."""

    level: str
    name: str
    headline: str
    action: str
    icon: str
    style: str
    #: The words were in a language backtriage cannot read: the notice that leads the result.
    not_read: str | None = None
    #: False when there is no outcome to show: the words were not read and warning-sign questions
    #: are open, so the headline says so and the action is to answer them (never "see a GP" as
    #: if the words had been read).
    outcome: bool = True


def urgency_view(a: Assessment) -> UrgencyView:
    number = a.emergency_number
    if words.words_not_read(a):
        if a.pending_red_flags and a.urgency is not UrgencyLevel.EMERGENCY:
            return UrgencyView(
                a.urgency.value,
                words.urgency_name(a.urgency),
                _("We could not read your words"),
                words.answer_first(number),
                "?",
                "not-read",
                not_read=words.not_read(a),
                outcome=False,
            )
        return replace(_urgency_view(a), not_read=words.not_read(a))
    return _urgency_view(a)


def _urgency_view(a: Assessment) -> UrgencyView:
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
        UrgencyLevel.ROUTINE: "\u2139",  # the information sign
        UrgencyLevel.SELF_CARE: "\u2713",
    }[a.urgency]
    action = next((item.text for item in a.advice if item.kind == "action"), "")
    return UrgencyView(
        a.urgency.value,
        words.urgency_name(a.urgency),
        headline,
        action,
        icon,
        a.urgency.value.replace("_", "-"),
    )


#: The one way a probability is stated (kept under its earlier name for the page's templates).
share_in_ten = words.chance


@dataclass(frozen=True)
class CauseView:
    """A likely cause in plain words. `danger` is the urgency the cause itself carries, so it is
    drawn in that urgency's colour whatever its probability: a dangerous cause is never green."""

    id: str
    name: str
    clinical_name: str
    share: str
    probability: float
    because: list[str] = field(default_factory=list)
    against: list[str] = field(default_factory=list)
    level: str | None = None
    danger: str = "self_care"


def causes(a: Assessment, top: int = 3) -> list[CauseView]:
    """The likely causes in plain words, each with the answers for and against it."""
    return [
        CauseView(
            id=c.id,
            name=c.lay_name,
            clinical_name=c.name,
            share=words.chance(c.probability),
            probability=c.probability,
            because=[_lay(e) if e.present else words.not_said(_lay(e)) for e in c.evidence_for[:4]],
            against=_against(c.evidence_against[:3]),
            level=c.level,
            danger=c.base_urgency.value,
        )
        for c in a.conditions[:top]
    ]


def _against(evidence: list[EvidenceItem]) -> list[str]:
    """Answers that count against a cause: each "no to …", then the findings the cause does not
    account for, said once for all of them."""
    said_no = [words.not_said(_lay(e)) for e in evidence if not e.present]
    unexplained = [_lay(e) for e in evidence if e.present]
    if unexplained:
        said_no.append(
            ngettext(
                "%(findings)s (this cause would not explain it)",
                "%(findings)s (this cause would not explain these)",
                len(unexplained),
            )
            % {"findings": "; ".join(unexplained)}
        )
    return said_no


def _lay(e: EvidenceItem) -> str:
    return e.lay_label or e.label  # an assessment stored before lay labels existed has none


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
    said = {True: _("yes"), False: _("no"), None: _("not sure")}
    return [(f.lay_label or f.label, said[answers[f.id]]) for f in kb.findings.values() if f.id in answers]


#: Root levels with a dermatome picture.
DERMATOMES = ("L4", "L5", "S1")


def dermatome(a: Assessment) -> str | None:
    """The nerve root the pattern fits (L4, L5 or S1), from the leading causes, if any."""
    for c in a.conditions[:3]:
        if c.level in DERMATOMES:
            return c.level
    return None


def _finding_lay(kb: KnowledgeBase, finding: str) -> str:
    f = kb.findings.get(finding)
    return f.lay_label if f is not None else finding


@dataclass(frozen=True)
class ResultView:
    """A result as a person reads it, in the order they need it."""

    urgency: UrgencyView
    scope: str | None
    why: list[str]
    #: Why home care cannot be advised while red-flag questions are open, kept apart so a layout
    #: can put it beside those questions instead of saying it twice.
    open_reason: str | None
    safety_net: list[str]
    still_to_ask: list[str]
    #: The same open red flags in a few words each, for a layout with one line to spare.
    still_open: list[str]
    causes: list[CauseView]
    self_care: list[str]
    more_advice: list[str]
    reading_notes: list[str]
    disclaimer: str
    kb_line: str


def result_view(kb: KnowledgeBase, a: Assessment, top: int = 3) -> ResultView:
    view = _result_view(kb, a, top)
    if view.urgency.outcome:
        return view
    # Words not read and warning signs open: the notice, the questions and the safety net; no
    # reason, cause or home care, which would read as a triage of the words.
    return replace(view, why=[], open_reason=None, causes=[], self_care=[], more_advice=[])


def _result_view(kb: KnowledgeBase, a: Assessment, top: int) -> ResultView:
    deciding = [r for r in a.urgency_reasons if r.urgency is a.urgency]
    said = [f for r in deciding if r.kind is UrgencyReasonKind.RULE for f in r.findings]
    why = [words.you_said([_finding_lay(kb, f) for f in said])] if said else []
    pending = [r for r in deciding if r.kind is UrgencyReasonKind.PENDING_SCREEN]
    skip = {UrgencyReasonKind.RULE, UrgencyReasonKind.PENDING_SCREEN}
    why += dict.fromkeys(words.reason_for_person(kb, a, r) for r in deciding if r.kind not in skip)
    return ResultView(
        urgency=urgency_view(a),
        scope=words.scope(kb, a),
        why=why,
        open_reason=words.reason_for_person(kb, a, pending[0]) if pending else None,
        safety_net=advice(a, "safety_net"),
        still_to_ask=still_to_ask(a),
        still_open=[_finding_lay(kb, p.finding) for p in a.pending_red_flags]
        if a.urgency is not UrgencyLevel.EMERGENCY
        else [],
        causes=causes(a, top),
        self_care=advice(a, "self_care"),
        more_advice=[i.text for i in a.advice if i.kind not in {"action", "safety_net", "self_care"}],
        reading_notes=[  # not being read leads the result (urgency.not_read), so it is not said again
            words.note(n, a.text.language) for n in a.text.notes if n is not ReadingNote.LANGUAGE_NOT_READ
        ]
        if a.text is not None
        else [],
        disclaimer=words.disclaimer(a.emergency_number),
        kb_line=_("Knowledge base %(version)s (%(hash)s).")
        % {"version": a.kb_version, "hash": a.kb_hash[:12]},
    )


class Explanation(BaseModel):
    """The result in words, for an API client that shows them as they are (`explain=true`)."""

    headline: str
    action: str
    scope: str | None
    why: list[str] = Field(description="Why this urgency, in a person's words.")
    why_clinical: list[str] = Field(description="Every reason for the urgency, for a clinician.")
    causes: list[str] = Field(description="The likely causes with how likely each is.")
    still_to_ask: list[str]
    disclaimer: str


def explanation(kb: KnowledgeBase, a: Assessment) -> Explanation:
    view = result_view(kb, a)
    not_read = [view.urgency.not_read] if view.urgency.not_read else []
    return Explanation(
        headline=view.urgency.headline,
        action=view.urgency.action,
        scope=view.scope,
        why=not_read + view.why + ([view.open_reason] if view.open_reason else []),
        why_clinical=[words.reason_for_clinician(kb, a, r) for r in a.urgency_reasons],
        causes=[
            _("%(cause)s: %(chance)s people with these answers") % {"cause": c.name, "chance": c.share}
            for c in view.causes
        ],
        still_to_ask=view.still_to_ask,
        disclaimer=view.disclaimer,
    )
