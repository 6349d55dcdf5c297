"""The terminal's layout of what the presentation layer says: a short result for a person by
default (one screen), the clinician's detail with `--explain`. No wording is decided here."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from backtriage.domain.assessment import Assessment, EvidenceItem, TextReading
from backtriage.domain.interview import Question
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces import presentation
from backtriage.interfaces.presentation import words
from backtriage.interfaces.presentation.terminal import YES_NO_WORDS, headings, question_prompt
from backtriage.knowledge.loader import KnowledgeBase

__all__ = [
    "render_assessment",
    "render_conditions",
    "render_findings",
    "render_question",
    "render_reading",
]

_COUNTED_STYLE = {"present": "bold red", "absent": "green", "ignored": "italic yellow"}

_STYLE = {
    UrgencyLevel.EMERGENCY: "bold white on red",
    UrgencyLevel.URGENT: "bold black on yellow",
    UrgencyLevel.ROUTINE: "bold white on blue",
    UrgencyLevel.SELF_CARE: "bold white on green",
}
_DANGER_STYLE = {"emergency": "bold red", "urgent": "bold yellow", "routine": "bold", "self_care": "bold"}
#: At most this many open questions are listed; the interview asks them all.
_OPEN_SHOWN = 3
#: Below this a cause other than the leading one is left to `--explain` (it would read "fewer
#: than 1 in 10" and only lengthen the screen).
_CAUSE_SHOWN_FROM = 0.1


def _outcome(a: Assessment) -> Text:
    """The outcome in words (with a marker, never colour alone), as the page shows it."""
    view = presentation.urgency_view(a)
    head = Text(f" {view.icon} {view.name.upper()} ", style=_STYLE[a.urgency])
    head.append(f"  {view.headline}", style="bold")
    return head


def render_assessment(
    console: Console, kb: KnowledgeBase, a: Assessment, *, explain: bool = False, top: int = 5
) -> None:
    """What to do now and what would make it urgent first, then the likely causes in plain words
    and the open questions; `explain` adds the rules, likelihood ratios, sources and reading."""
    view = presentation.result_view(kb, a)
    h = headings()
    if not view.urgency.outcome:
        _render_not_read(console, kb, a, view, explain=explain, top=top)
        return
    emergency = a.urgency is UrgencyLevel.EMERGENCY
    if view.urgency.not_read and not emergency:  # the words were not used: said before any outcome
        console.print(Text(view.urgency.not_read, style="bold yellow"))
    console.print(Panel(Text(view.urgency.action), title=_outcome(a), title_align="left", expand=False))
    if view.urgency.not_read and emergency:  # an emergency from the answers: the call comes first
        console.print(Text(view.urgency.not_read, style="bold yellow"))
    if view.scope:
        console.print(
            Text(view.scope, style="bold red" if a.urgency is UrgencyLevel.EMERGENCY else "bold yellow")
        )
    why = view.why if view.still_open and not explain else [*view.why, *filter(None, [view.open_reason])]
    if why:
        console.print(Text.assemble((h.why + ": ", "bold"), " ".join(why)))
    _render_still_open(console, view, explain=explain)
    for text in view.safety_net:
        console.print(Text(text, style="yellow"))
    if view.causes:
        console.print(Text(h.causes, style="bold"))
        for i, cause in enumerate(view.causes, start=1):
            if i > 1 and not explain and cause.probability < _CAUSE_SHOWN_FROM:
                continue
            name = Text(cause.name, style=_DANGER_STYLE.get(cause.danger, "bold"))
            _item(console, f"{i}.", Text.assemble(name, f": {cause.share}"))
            if cause.because and (i == 1 or explain):  # the leading cause's reasons fit one screen
                said = "; ".join(cause.because[: 3 if explain else 2])
                _item(console, "", Text(f"{h.because}: {said}", style="dim"))
    if view.self_care:
        console.print(Text(h.what_to_do, style="bold"))
        for text in view.self_care if explain else view.self_care[:1]:
            _item(console, "-", Text(text))
    if explain:
        for text in view.more_advice:
            _item(console, "-", Text(text))
    _render_end(console, kb, a, view, explain=explain, top=top)


def _render_not_read(
    console: Console,
    kb: KnowledgeBase,
    a: Assessment,
    view: presentation.ResultView,
    *,
    explain: bool,
    top: int,
) -> None:
    """Words in a language backtriage cannot read, and warning signs still open: that the words
    were not read and what to do, the questions themselves and how to answer them, then the
    safety net. No outcome, reason or cause: nothing but the questions was there to go on."""
    h = headings()
    notice = Text(view.urgency.not_read or "")
    notice.append("\n" + view.urgency.action, style="bold")
    head = Text(f" {view.urgency.icon} {view.urgency.headline} ", style="bold reverse")
    console.print(Panel(notice, title=head, title_align="left", expand=False))
    console.print(Text(h.still_open, style="bold yellow"))
    for question in view.still_to_ask:
        _item(console, "?", Text(question))
    console.print(Text(h.answer_them, style="bold"))
    for text in view.safety_net:
        console.print(Text(text, style="yellow"))
    _render_end(console, kb, a, view, explain=explain, top=top)


def _render_end(
    console: Console,
    kb: KnowledgeBase,
    a: Assessment,
    view: presentation.ResultView,
    *,
    explain: bool,
    top: int,
) -> None:
    """What every result ends with: the notes on the reading, the clinician's detail when asked
    for, and the disclaimer (with the way to the detail when it was not)."""
    for note in view.reading_notes:
        console.print(Text(note, style="yellow"))
    if explain:
        _render_explanation(console, kb, a, top, view.kb_line)
        console.print(Text(view.disclaimer, style="dim"))
    else:
        console.print(Text(f"{view.disclaimer} {headings().more}", style="dim"))


def _item(console: Console, marker: str, text: Text) -> None:
    """One item of a list, its wrapped lines indented under its first word, not under the marker."""
    indent = 4
    for i, line in enumerate(text.wrap(console, max(console.width - indent, 20))):
        line.rstrip()
        console.print(Text(f"{marker:>3} " if i == 0 else " " * indent) + line, soft_wrap=True)


def _render_still_open(console: Console, view: presentation.ResultView, *, explain: bool) -> None:
    """The red-flag questions the words did not answer, and the command that asks them: a few
    words each in the short result, the questions themselves with `--explain`."""
    if not view.still_open:
        return
    h = headings()
    if explain:
        console.print(Text(h.still_open, style="bold yellow"))
        for question in view.still_to_ask:
            _item(console, "?", Text(question))
    else:
        shown = "; ".join(view.still_open[:_OPEN_SHOWN])
        if len(view.still_open) > _OPEN_SHOWN:
            shown += "; " + words.more_questions(len(view.still_open) - _OPEN_SHOWN)
        why = (h.why + ": ", "bold") if view.open_reason else ""
        console.print(Text.assemble(why, (h.still_open + ": ", "bold yellow"), shown))
    console.print(Text(h.answer_them, style="bold"))


def _render_explanation(console: Console, kb: KnowledgeBase, a: Assessment, top: int, kb_line: str) -> None:
    """For a clinician: every reason, every rule with its sources, the causes with their
    likelihood ratios, and how each word of a text was read."""
    h = headings()
    console.print(Text(h.reasons, style="bold"))
    for reason in a.urgency_reasons:
        console.print(Text(f"  - {words.reason_for_clinician(kb, a, reason)}"))
    if a.red_flags:
        console.print(Text(h.red_flags, style="bold red"))
        for r in a.red_flags:
            console.print(Text.assemble("  ! ", (r.name, "bold"), f" ({words.urgency_name(r.urgency)})"))
            console.print(Text(f"    {r.rationale}", style="dim"))
            console.print(
                Text(f"    {h.sources}: {'; '.join(a.sources.get(s, s) for s in r.sources)}", style="dim")
            )
    table = Table(title=h.cause_table, expand=False)
    for column in ("#", h.cause, h.chance, h.for_, h.against):
        table.add_column(column)
    for i, c in enumerate(a.conditions[:top], start=1):
        table.add_row(
            str(i),
            f"{escape(c.name)}" + (f" ({c.level})" if c.level else "") + f"\n[dim]{', '.join(c.icd10)}[/dim]",
            words.chance(c.probability),
            "\n".join(_evidence(e) for e in c.evidence_for[:4]) or "-",
            "\n".join(_evidence(e) for e in c.evidence_against[:3]) or "-",
        )
    console.print(table)
    if a.text is not None:
        render_reading(console, kb, None, a.text)
    console.print(Text(kb_line, style="dim"))


def _evidence(e: EvidenceItem) -> str:
    label = e.label if e.present else words.absent(e.label)
    return f"{escape(label)} \u00d7{e.likelihood_ratio:g}"


def render_findings(console: Console, kb: KnowledgeBase) -> None:
    table = Table(title=f"Findings (knowledge base {kb.version})")
    table.add_column("id")
    table.add_column("group")
    table.add_column("red flag")
    table.add_column("question / derivation")
    for f in kb.findings.values():
        detail = f.question or (f.derived_from.describe() if f.derived_from else "")
        table.add_row(f.id, f.group.value, "yes" if f.red_flag else "", detail)
    console.print(table)


def render_conditions(console: Console, kb: KnowledgeBase) -> None:
    table = Table(title=f"Conditions (knowledge base {kb.version})")
    table.add_column("id")
    table.add_column("name")
    table.add_column("ICD-10-CM")
    table.add_column("prior", justify="right")
    table.add_column("base urgency")
    for c in kb.conditions.values():
        table.add_row(c.id, c.name, ", ".join(c.icd10), f"{c.prior:.3f}", c.base_urgency.value)
    console.print(table)


def render_reading(console: Console, kb: KnowledgeBase, text: str | None, reading: TextReading) -> None:
    """The words behind each finding: highlighted text (when given) and a table of mentions."""
    h = headings()
    if text is not None and reading.mentions:
        highlighted = Text(text)
        for m in reading.mentions:
            highlighted.stylize(_COUNTED_STYLE[m.counted_as], m.start, m.end)
        console.print(Panel(highlighted, title=words.reading_legend(), expand=False))
    if reading.mentions:
        table = Table(title=h.words_read, expand=False)
        for col in h.read_columns:
            table.add_column(col)
        for m in reading.mentions:
            finding = kb.findings.get(m.finding)
            read_as = (finding.label if finding else m.finding) + "".join(
                f"\n[dim]{escape(c)}[/dim]" for c in m.corrections
            )
            table.add_row(
                escape(f'"{m.text}"'),
                read_as,
                Text(words.counted_as(m.counted_as), style=_COUNTED_STYLE[m.counted_as]),
                words.count_reason(m.reason),
            )
        console.print(table)
    facts = words.also_read(reading)
    if facts:
        console.print(Text(f"{h.also_read}: {'; '.join(facts)}"))
    for n in reading.notes:
        console.print(Text(words.note(n, reading.language), style="yellow"))


def render_question(console: Console, kb: KnowledgeBase, question: Question) -> dict[str, bool | None]:
    """Ask one interview question at the terminal; returns the answers in the usual shape."""
    prompt = question_prompt(question, words.why_asked(kb, question))
    console.print()
    console.print(Text(question.text, style="bold red" if question.red_flag else "bold"))
    if question.help:
        console.print(Text(question.help, style="dim"))
    console.print(Text(prompt.why, style="dim italic"))
    if question.kind == "yes_no":
        assert question.finding is not None
        while True:
            reply = Prompt.ask(escape(prompt.ask), console=console).strip().lower()
            if reply in YES_NO_WORDS:
                return {question.finding: YES_NO_WORDS[reply]}
            console.print(Text(prompt.retry, style="yellow"))
    for number, option in enumerate(question.options, start=1):
        console.print(f"  {number}. {escape(words.option_text(option))}")
    while True:
        reply = Prompt.ask(escape(prompt.ask), console=console).strip()
        answers = _choice_answers(question, reply)
        if answers is not None:
            return answers
        console.print(Text(prompt.retry, style="yellow"))


def _choice_answers(question: Question, reply: str) -> dict[str, bool | None] | None:
    """The answers a reply to a choice question gives, or None when it is not one the prompt
    offered: numbers, 0 for none of them, ? for not sure (nothing recorded; asked one by one)."""
    if reply == "?":
        return None if question.unchosen_means_no else {}
    if reply == "0":
        if question.kind == "single_choice":
            return None
        return {o.finding: False for o in question.options if o.finding and o.value}
    picks = [p.strip() for p in reply.replace(" ", ",").split(",") if p.strip()]
    if not picks or not all(p.isdigit() and 1 <= int(p) <= len(question.options) for p in picks):
        return None
    if question.kind == "single_choice" and len(picks) > 1:
        return None
    chosen = [question.options[int(p) - 1] for p in picks]
    if question.none_of_these and any(o.id == "none" and o.finding is None for o in chosen):
        return {o.finding: False for o in question.options if o.finding and o.value}
    answers: dict[str, bool | None] = {}
    for option in chosen:
        if option.finding:
            answers[option.finding] = option.value
    return question.complete(answers)
