"""The words of the CDS Hooks service: the services' titles in discovery, and the card a clinician
reads in the EHR (summary, GitHub-flavoured Markdown detail, labels of its suggestion, link and
override reasons). The card is for a clinician, so it names rules, findings and causes by their
clinical labels; what it was read from (an Observation, the note) is said with its date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from backtriage.domain.assessment import Assessment, ConditionResult, FiredRule
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces.presentation import words
from backtriage.interfaces.presentation.catalogue import gettext as _
from backtriage.knowledge.loader import KnowledgeBase

__all__ = [
    "MAX_SUMMARY",
    "CardFacts",
    "Seen",
    "action_description",
    "against_note",
    "condition_note",
    "detail",
    "link_label",
    "markdown",
    "override_reason",
    "service_description",
    "service_title",
    "source_label",
    "suggestion_label",
    "summary",
    "topic_display",
    "usage_requirements",
]

#: The spec's limit: a summary is "<140 characters".
MAX_SUMMARY = 139
#: How many causes and advice items the detail lists.
TOP_CAUSES = 3
TOP_ADVICE = 3


@dataclass(frozen=True)
class Seen:
    """Where the record said a finding: an Observation or the note, and on which day."""

    kind: Literal["observation", "note"]
    day: date | None = None


@dataclass(frozen=True)
class CardFacts:
    """What the card says about the record besides the assessment."""

    seen: Mapping[str, Seen] = field(default_factory=dict)
    #: Causes already diagnosed in the record: (condition id, ICD-10-CM code).
    diagnosed: Sequence[tuple[str, str]] = ()
    #: Resources left out because they were not valid FHIR or were about another patient.
    unreadable: int = 0
    #: The HPO licence's acknowledgement, shown wherever HPO terms are.
    acknowledgement: str = ""


# ---- discovery ---------------------------------------------------------------------------------
def service_title(hook: str) -> str:
    return {
        "patient-view": _("Back numbness and tingling: triage when the chart is opened"),
        "encounter-start": _("Back numbness and tingling: triage when an encounter starts"),
    }[hook]


def service_description(hook: str) -> str:
    when = {
        "patient-view": _("When a patient's chart is opened"),
        "encounter-start": _("When an encounter starts"),
    }[hook]
    return (
        when
        + ", "
        + _(
            "reads the record (findings recorded as Observations, the latest note, active diagnoses) for "
            "numbness or tingling in the back and its red flags, and shows one card: the urgency, the likely "
            "causes and why. It shows nothing when the record says nothing about it."
        )
    )


def usage_requirements() -> str:
    return _(
        "Every call carries a JWT signed by a trusted EHR (ES384 or RS384 recommended). Send the "
        "prefetched data, or fhirAuthorization for the FHIR server agreed for your EHR."
    )


# ---- the card ----------------------------------------------------------------------------------
def markdown(text: str) -> str:
    """Text shown as itself in Markdown (no accidental emphasis, links or HTML)."""
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_[]<>#|~" else ch)
    return "".join(out)


def _bold(text: str) -> str:
    return f"**{text}**"


def _finding(kb: KnowledgeBase, finding: str) -> str:
    f = kb.findings.get(finding)
    return f.label if f is not None else finding


def _cause(kb: KnowledgeBase, condition: str) -> str:
    c = kb.conditions.get(condition)
    return c.name if c is not None else condition


def _leading_flag(a: Assessment) -> FiredRule | None:
    """The most urgent red flag that fired (the first of equals, in the knowledge base's order)."""
    if not a.red_flags:
        return None
    top = max(r.urgency for r in a.red_flags)
    return next(r for r in a.red_flags if r.urgency is top)


def summary(kb: KnowledgeBase, a: Assessment) -> str:
    """One sentence under 140 characters that starts with the urgency in words."""
    level = words.urgency_name(a.urgency)
    flag = _leading_flag(a)
    lead = a.conditions[0] if a.conditions else None
    candidates: list[str] = []
    if flag is not None:
        if lead is not None:
            candidates.append(
                _("%(level)s: %(flag)s; most likely %(cause)s.")
                % {"level": level, "flag": flag.name, "cause": lead.name}
            )
        candidates.append(_("%(level)s: %(flag)s.") % {"level": level, "flag": flag.name})
    else:
        if lead is not None:
            candidates.append(
                _("%(level)s: the findings in the record point most to %(cause)s (%(chance)s).")
                % {"level": level, "cause": lead.name, "chance": words.chance(lead.probability)}
            )
        candidates.append(_("%(level)s: findings in the record bear on back numbness.") % {"level": level})
    for sentence in candidates:
        if len(sentence) <= MAX_SUMMARY:
            return sentence
    return candidates[-1][: MAX_SUMMARY - 1].rstrip() + "\u2026"


def _seen(seen: Seen | None) -> str:
    if seen is None:
        return ""
    if seen.kind == "note":
        where = _("note of %(day)s") % {"day": seen.day.isoformat()} if seen.day else _("note")
    else:
        where = _("observation of %(day)s") % {"day": seen.day.isoformat()} if seen.day else _("observation")
    return " (" + where + ")"


def _sources(kb: KnowledgeBase, ids: Sequence[str], numbers: dict[str, int]) -> str:
    refs = []
    for source in ids:
        if source in kb.sources:
            numbers.setdefault(source, len(numbers) + 1)
            refs.append(f"[{numbers[source]}]")
    return (" " + _("Sources: %(refs)s") % {"refs": ", ".join(refs)}) if refs else ""


def detail(kb: KnowledgeBase, a: Assessment, facts: CardFacts) -> str:
    """The card's detail in GitHub-flavoured Markdown: red flags with what they rest on and their
    sources, the likely causes with their chances, open red-flag questions, key advice, the
    diagnoses already recorded and what could not be read."""
    parts: list[str] = []
    numbers: dict[str, int] = {}
    if a.red_flags:
        lines = [_bold(_("Red flags in the record")), ""]
        for rule in sorted(a.red_flags, key=lambda r: -r.urgency.rank):
            on = "; ".join(
                markdown(_finding(kb, f).lower()) + _seen(facts.seen.get(f))
                for f in dict.fromkeys(rule.findings)
            )
            lines.append(
                f"- **{markdown(rule.name)}** ({words.urgency_name(rule.urgency)}): {on}."
                + _sources(kb, rule.sources, numbers)
            )
        parts.append("\n".join(lines))
    causes = a.conditions[:TOP_CAUSES]
    if causes:
        lines = [_bold(_("Most likely causes")), ""]
        for i, c in enumerate(causes, start=1):
            lines.append(
                f"{i}. "
                + _("%(cause)s (%(code)s): %(chance)s with these findings")
                % {"cause": markdown(c.name), "code": c.icd10[0], "chance": words.chance(c.probability)}
            )
        parts.append("\n".join(lines))
    if a.pending_red_flags and a.urgency is not UrgencyLevel.EMERGENCY:
        open_ = words.join([markdown(_finding(kb, p.finding).lower()) for p in a.pending_red_flags])
        parts.append(
            _bold(_("Red flags the record does not answer"))
            + f": {open_}. "
            + _("Ask about them, or open the backtriage interview.")
        )
    advice = [i.text for i in a.advice if i.kind in ("action", "safety_net")][:TOP_ADVICE]
    if advice:
        parts.append(
            "\n".join([_bold(_("Advice for the patient")), "", *(f"- {markdown(t)}" for t in advice)])
        )
    if facts.diagnosed:
        known = ", ".join(f"{markdown(_cause(kb, c))} ({code})" for c, code in facts.diagnosed)
        parts.append(_("Already diagnosed in the record: %(known)s.") % {"known": known})
    if facts.unreadable:
        parts.append(
            "_"
            + _("%(n)d resources of the record could not be read (not valid FHIR, or about another patient).")
            % {"n": facts.unreadable}
            + "_"
        )
    if numbers:
        lines = [_bold(_("Sources")), ""]
        for source, n in numbers.items():
            s = kb.sources[source]
            cited = markdown(s.citation)
            lines.append(f"{n}. " + (f"[{cited}]({s.url.replace(')', '%29')})" if s.url else cited))
        parts.append("\n".join(lines))
    footer = words.disclaimer(a.emergency_number)
    if facts.acknowledgement:
        footer += " " + facts.acknowledgement
    parts.append("_" + markdown(footer) + "_")
    return "\n\n".join(parts)


def source_label(kb_version: str) -> str:
    return _("backtriage KB %(version)s") % {"version": kb_version}


def topic_display() -> str:
    return _("Numbness and tingling in the back")


def link_label() -> str:
    return _("Open the backtriage interview")


def suggestion_label(c: ConditionResult, provisional: bool) -> str:
    if provisional:
        text = _("Record %(cause)s (%(code)s) as a provisional diagnosis")
    else:
        text = _("Record %(cause)s (%(code)s) as a differential diagnosis")
    return text % {"cause": c.name, "code": c.icd10[0]}


def action_description(c: ConditionResult) -> str:
    return _(
        "Create a Condition %(code)s %(cause)s for this encounter, with the findings that support it."
    ) % {
        "cause": c.name,
        "code": c.icd10[0],
    }


def condition_note(c: ConditionResult, kb_version: str) -> str:
    return _("Suggested by backtriage (knowledge base %(version)s): %(chance)s with these findings.") % {
        "version": kb_version,
        "chance": words.chance(c.probability),
    }


def against_note(kb: KnowledgeBase, c: ConditionResult) -> str | None:
    """The findings that count against a cause: answered no, or present but not explained by it."""
    items = []
    for e in c.evidence_against:
        label = _finding(kb, e.finding).lower()
        if not e.present:
            items.append(words.absent(label))
        elif e.unexplained:
            items.append(_("%(finding)s (not explained by this cause)") % {"finding": label})
        else:
            items.append(_("%(finding)s (present, which makes this cause less likely)") % {"finding": label})
    if not items:
        return None
    return _("Against: %(findings)s.") % {"findings": "; ".join(items)}


def override_reason(code: str) -> str:
    return {
        "already-assessed": _("Already assessed"),
        "not-back-symptoms": _("The patient has no back symptoms"),
        "record-outdated": _("The record is out of date"),
        "clinical-judgement": _("Clinical judgement differs"),
    }.get(code, code)
