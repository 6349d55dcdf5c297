"""The words of the FHIR resources backtriage emits and serves: summaries, rationales, titles.

FHIR carries human-readable text beside its codes (`text`, `summary`, `rationale`, `title`);
those sentences come from here, through the message catalogue, so an EHR in another language
gets them translated like the page. Names of findings, causes and rules come from the
knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence

from backtriage.domain.assessment import Assessment, EvidenceItem
from backtriage.interfaces.presentation import words
from backtriage.interfaces.presentation.catalogue import gettext as _
from backtriage.interfaces.presentation.views import urgency_view
from backtriage.knowledge.loader import KnowledgeBase

__all__ = [
    "capability_description",
    "code_system_description",
    "code_system_title",
    "concept_map_title",
    "evidence",
    "kb_display",
    "maps_to",
    "no_match",
    "not_found",
    "rationale",
    "rule_basis",
    "sources",
    "summary",
    "unidentified_person",
    "value_set_title",
    "version_kind",
]


def unidentified_person() -> str:
    """The subject's display when the caller names no patient (RiskAssessment needs a subject)."""
    return _("unidentified person")


def summary(kb: KnowledgeBase, a: Assessment) -> str:
    """ClinicalImpression.summary: the outcome, why, and the first thing to do, for a clinician."""
    deciding = [r for r in a.urgency_reasons if r.urgency is a.urgency]
    view = urgency_view(a)
    parts = [_("%(headline)s.") % {"headline": view.headline}]
    parts += dict.fromkeys(words.reason_for_clinician(kb, a, r) for r in deciding)
    if (scope := words.scope(kb, a)) is not None:
        parts.append(scope)
    if view.action:
        parts.append(view.action)
    return " ".join(parts)


def evidence(item: EvidenceItem) -> str:
    """One answer for or against a cause: its label, marked when it was answered no or when the
    cause would not explain it."""
    if not item.present:
        return words.absent(item.label)
    if item.unexplained:
        return _("%(finding)s (not explained by this cause)") % {"finding": item.label}
    return item.label


def rationale(for_: Sequence[EvidenceItem], against: Sequence[EvidenceItem]) -> str:
    """RiskAssessment.prediction.rationale: the probability's scale stated (the FHIR element is
    ambiguous about it), then the evidence for and against."""
    none = _("none")
    return _("Probability in percent (0 to 100). For: %(for)s; Against: %(against)s") % {
        "for": ", ".join(evidence(e) for e in for_) or none,
        "against": ", ".join(evidence(e) for e in against) or none,
    }


def sources(citations: Sequence[str]) -> str:
    return _("Sources: %(sources)s") % {"sources": "; ".join(citations)}


def rule_basis(rationale_text: str, citations: Sequence[str]) -> str:
    """ClinicalImpression.finding.basis: the rule's reason and where it comes from."""
    return f"{rationale_text} {sources(citations)}" if citations else rationale_text


def version_kind(kind: str) -> str:
    """What a Device.version is the version of."""
    return {"kb": _("knowledge base"), "software": _("software")}[kind]


def kb_display(version: str) -> str:
    return _("backtriage knowledge base %(version)s") % {"version": version}


def code_system_title(name: str) -> str:
    return {
        "urgency": _("backtriage triage urgency"),
        "finding": _("backtriage findings"),
        "cause": _("backtriage causes of back numbness and tingling"),
        "red-flag": _("backtriage red-flag rules"),
        "observation": _("backtriage observation codes"),
        "method": _("backtriage assessment methods"),
        "question-option": _("backtriage answer options"),
        "cds-topic": _("backtriage CDS Hooks card topics"),
        "cds-override-reason": _("backtriage reasons for setting a card aside"),
    }[name]


def code_system_description(name: str) -> str:
    return {
        "urgency": _("How soon a person with numbness or tingling in the back should be seen."),
        "finding": _(
            "What backtriage asks about or reads from text; each finding names its HPO term when one fits."
        ),
        "cause": _("The causes backtriage weighs, each with its ICD-10-CM codes."),
        "red-flag": _("The rules that raise the urgency when their findings are present."),
        "observation": _("What an Observation from backtriage records, where no standard code fits."),
        "method": _("How backtriage reached an assessment; the coding's version is the knowledge base's."),
        "question-option": _("The options of backtriage's single-choice questions, as question.option."),
        "cds-topic": _("What a backtriage CDS Hooks card is about."),
        "cds-override-reason": _("Why a clinician set a backtriage card aside, offered on every card."),
    }[name]


def maps_to(system: str) -> str:
    """What a CodeSystem's `maps-to` property holds: the concept's code in HPO or ICD-10-CM."""
    return _("The same concept in %(system)s.") % {"system": system}


def value_set_title(name: str) -> str:
    return {"urgency": _("backtriage triage urgencies")}[name]


def concept_map_title(name: str) -> str:
    return {"urgency-to-act-priority": _("backtriage urgency to HL7 v3 ActPriority")}[name]


def no_match() -> str:
    """The comment on an urgency with no ActPriority equivalent (self-care)."""
    return _("No visit is needed, and ActPriority has no code for that.")


def capability_description() -> str:
    return _(
        "backtriage: triage of numbness and tingling in the back. Its terminology and the SDC "
        "adaptive questionnaire."
    )


def not_found(kind: str) -> str:
    """An OperationOutcome's diagnostics for an unknown id (the id is not repeated back)."""
    return _("There is no %(kind)s with this id.") % {"kind": kind}
