"""The handover a GP can use: who, when, in their own words, the outcome and why, the positive
findings first, the red-flag screen as one line, the negatives after, the causes considered and
the knowledge-base version. One structure, laid out as plain text (copy, `assess --summary`) and
as a PDF (the page's download), so both always say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from backtriage.domain.assessment import Assessment
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces.presentation import words
from backtriage.interfaces.presentation.catalogue import gettext as _
from backtriage.interfaces.presentation.views import urgency_view
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["Handover", "Person", "Section", "handover", "handover_pdf", "handover_text"]


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Handover:
    title: str
    sections: list[Section]
    footer: str


@dataclass(frozen=True)
class Person:
    """What is known of the person besides their answers."""

    age: int | None = None
    sex: str | None = None
    words: str | None = None  # what they wrote, only when they agreed it be kept


def handover(
    kb: KnowledgeBase,
    a: Assessment,
    answers: Mapping[str, bool | None],
    when: datetime,
    person: Person | None = None,
) -> Handover:
    person = person or Person()
    view = urgency_view(a)
    sections = [
        Section(
            _("Patient"),
            [_about(person), _("Assessed %(when)s") % {"when": when.strftime("%Y-%m-%d %H:%M %Z").strip()}],
        ),
    ]
    if person.words:
        sections.append(Section(_("In their own words"), [f"\u201c{person.words.strip()}\u201d"]))
    deciding = [r for r in a.urgency_reasons if r.urgency is a.urgency]
    sections.append(
        Section(
            _("Outcome: %(level)s") % {"level": words.urgency_name(a.urgency)},
            [view.headline, *[words.reason_for_clinician(kb, a, r) for r in deciding]],
        )
    )
    if words.words_not_read(a):
        sections[-1].lines.insert(1, words.not_read_for_clinician(a))
    if (scope := words.scope(kb, a)) is not None:
        sections[-1].lines.append(scope)
    sections.extend(_findings(kb, a, answers))
    sections.append(
        Section(
            _("Causes considered"),
            [
                _("%(cause)s: %(chance)s") % {"cause": c.name, "chance": words.chance(c.probability)}
                for c in a.conditions[:5]
            ],
        )
    )
    footer = _("Knowledge base %(version)s (%(hash)s). %(disclaimer)s") % {
        "version": a.kb_version,
        "hash": a.kb_hash[:12],
        "disclaimer": words.disclaimer(a.emergency_number),
    }
    return Handover(_("backtriage summary for a clinician"), sections, footer)


def _about(person: Person) -> str:
    age = _("age %(age)d") % {"age": person.age} if person.age is not None else _("age not given")
    sexes = {"female": _("female"), "male": _("male")}
    sex = sexes.get(person.sex or "", _("sex not given"))
    return f"{age}, {sex}"


def _findings(kb: KnowledgeBase, a: Assessment, answers: Mapping[str, bool | None]) -> list[Section]:
    """Positive findings first; the red-flag screen as one line; the other negatives after."""
    screen = {f for f, finding in kb.findings.items() if finding.red_flag}
    states = {f.id: f.present for f in a.findings if f.origin != "derived" or f.present}
    for fid, value in answers.items():
        states.setdefault(fid, value)
    # Age and sex are in the header: the derived "age 50 or over"-style findings would repeat them.
    present = [
        kb.findings[f].label
        for f, v in states.items()
        if v is True and f in kb.findings and kb.findings[f].derived_from is None
    ]
    flags_no = [kb.findings[f].label.lower() for f, v in states.items() if v is False and f in screen]
    flags_open = [p.finding for p in a.pending_red_flags]
    other_no = [
        kb.findings[f].label for f, v in states.items() if v is False and f not in screen and f in kb.findings
    ]
    unsure = [kb.findings[f].label for f, v in states.items() if v is None and f in kb.findings]
    screen_line = _("Red-flag screen: denies %(denied)s.") % {
        "denied": "; ".join(flags_no) or _("none asked")  # a label may hold a comma of its own
    }
    if flags_open and a.urgency is not UrgencyLevel.EMERGENCY:
        screen_line += " " + _("Not asked: %(open)s.") % {
            "open": "; ".join([kb.findings[f].label.lower() for f in flags_open])
        }
    sections = [
        Section(_("Positive findings"), present or [_("none")]),
        Section(_("Red flags"), [screen_line]),
        Section(_("Negative findings"), other_no or [_("none")]),
    ]
    if unsure:
        sections.append(Section(_("Not sure"), unsure))
    return sections


def handover_text(h: Handover) -> str:
    lines = [h.title, "=" * len(h.title)]
    for section in h.sections:
        lines += ["", section.heading, *(f"- {line}" for line in section.lines)]
    lines += ["", h.footer]
    return "\n".join(lines) + "\n"


def handover_pdf(h: Handover) -> bytes:
    """The handover as a one- or two-page A4 PDF, made on the server (no print dialog)."""
    from fpdf import FPDF  # imported here: only the page's download needs it

    pdf = FPDF(format="A4")
    pdf.set_title(h.title)
    pdf.set_creator("backtriage")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, _latin(h.title), new_x="LMARGIN", new_y="NEXT")
    for section in h.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin(section.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for line in section.lines:
            pdf.multi_cell(0, 6, _latin(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 5, _latin(h.footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


_TYPOGRAPHY = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-", "\u2014": "-"}
)


def _latin(text: str) -> str:
    """The PDF's built-in fonts hold Latin-1 only: typographic marks become plain ones and any
    other character a question mark, so no word is ever dropped silently."""
    return text.translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")
