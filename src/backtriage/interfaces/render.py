"""Human-readable rendering of assessments and vocabularies with rich."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from backtriage.domain.assessment import Assessment, EvidenceItem, TextReading
from backtriage.domain.interview import Question
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces import presentation
from backtriage.knowledge.loader import KnowledgeBase

__all__ = [
    "render_assessment",
    "render_conditions",
    "render_findings",
    "render_question",
    "render_reading",
]

#: Words accepted for yes / no / not sure at the terminal.
_YES_NO: dict[str, bool | None] = {
    **dict.fromkeys(("y", "yes", "yeah", "yep", "true"), True),
    **dict.fromkeys(("n", "no", "nope", "false"), False),
    **dict.fromkeys(("?", "not sure", "unsure", "dont know", "don't know", "idk"), None),
}

_COUNTED_STYLE = {"present": "bold red", "absent": "green", "ignored": "italic yellow"}

_STYLE = {
    UrgencyLevel.EMERGENCY: "bold white on red",
    UrgencyLevel.URGENT: "bold black on yellow",
    UrgencyLevel.ROUTINE: "bold white on blue",
    UrgencyLevel.SELF_CARE: "bold white on green",
}


def _outcome(a: Assessment) -> Text:
    """The outcome in words (with a marker, never colour alone), as the page shows it."""
    view = presentation.urgency_view(a)
    head = Text(f" {view.icon} {a.urgency.value.upper().replace('_', ' ')} ", style=_STYLE[a.urgency])
    head.append(f"  {view.headline}", style="bold")
    return head


def render_assessment(console: Console, a: Assessment, top: int = 5) -> None:
    """Outcome and action first (they must fit the first screen), then the safety net, the
    causes in plain words, the details for a clinician, and the outcome again at the end."""
    view = presentation.urgency_view(a)
    console.print(Panel(Group(_outcome(a), Text(view.action)), title="backtriage", expand=False))
    _render_scope(console, a)
    for text in presentation.advice(a, "safety_net"):
        console.print(Text(f"Get help sooner: {text}", style="yellow"))
    _render_still_to_ask(console, a)
    for cause in presentation.causes(a):
        console.print(f"  - [bold]{escape(cause.name)}[/bold]: {cause.share} people with these answers")

    if a.red_flags:
        console.print(Text("Red flags", style="bold red"))
        for r in a.red_flags:
            console.print(
                f"  [red]![/red] [bold]{r.name}[/bold] -> {r.urgency.value}"
                f"  [dim](rule {r.id}; findings: {', '.join(r.findings)})[/dim]"
            )
            console.print(f"    {r.rationale}  [dim]Sources: {', '.join(r.sources)}[/dim]")
    console.print(Text("Why this urgency", style="bold"))
    for reason in a.urgency_reasons:
        console.print(f"  - {escape('[' + reason.urgency.value + ']')} {escape(reason.summary)}")

    table = Table(title="Likely causes", show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("Cause")
    table.add_column("Probability", justify="right")
    table.add_column("For (likelihood ratio)")
    table.add_column("Against")
    for i, c in enumerate(a.conditions[:top], start=1):
        name = c.lay_name + (f" ({c.level})" if c.level else "")
        name += f"\n[dim]{c.name}; {', '.join(c.icd10)}[/dim]"
        table.add_row(
            str(i),
            name,
            f"{c.probability:.1%}",
            "\n".join(_evidence(e) for e in c.evidence_for[:4]) or "-",
            "\n".join(_evidence(e) for e in c.evidence_against[:3]) or "-",
        )
    console.print(table)

    if a.text is not None:
        render_reading(console, None, a.text)

    lines = [Text(f"- {item.text}") for item in a.advice]
    console.print(Panel(Group(*lines), title="What to do", expand=False))
    console.print(Text(f"{a.disclaimer}  Knowledge base {a.kb_version} ({a.kb_hash[:12]}).", style="dim"))
    console.print(_outcome(a))


def _render_still_to_ask(console: Console, a: Assessment) -> None:
    """Red-flag questions the words did not answer, and where to answer them, before the causes:
    a "yes" to any of them can change the advice."""
    questions = presentation.still_to_ask(a)
    if not questions:
        return
    console.print(Text("Not yet asked: a 'yes' to any of these can change the advice", style="bold yellow"))
    for question in questions:
        console.print(Text(f"  ? {question}"))
    console.print(Text("Answer them " + "; or ".join(presentation.how_to_answer()) + ".", style="dim"))


def _render_scope(console: Console, a: Assessment) -> None:
    """Whether this looks like a back problem at all, and what else is suspected, up front."""
    if a.scope_message:
        style = "bold red" if a.urgency is UrgencyLevel.EMERGENCY else "bold yellow"
        console.print(Text(a.scope_message, style=style))
        if a.urgency is UrgencyLevel.EMERGENCY:
            console.print(Text(f"Call {a.emergency_number} now.", style="bold red"))
    names = [c.name for c in a.conditions if c.id in a.suspected]
    detail = f"; suspected: {', '.join(names)}" if names else ""
    console.print(Text(f"Scope: {_SCOPE_NAMES[a.scope.value]}{detail}", style="dim"))


_SCOPE_NAMES = {
    "back": "the back and its nerves",
    "possibly_not_back": "possibly not (only) the back",
    "not_back": "probably not the back",
}


def _evidence(e: EvidenceItem) -> str:
    state = "" if e.present else " [italic](absent)[/italic]"
    return f"{escape(e.label)}{state} x{e.likelihood_ratio:g}"


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


def render_reading(console: Console, text: str | None, reading: TextReading) -> None:
    """The words behind each finding: highlighted text (when given) and a table of mentions."""
    if text is not None and reading.mentions:
        highlighted = Text(text)
        for m in reading.mentions:
            highlighted.stylize(_COUNTED_STYLE[m.counted_as], m.start, m.end)
        console.print(
            Panel(
                highlighted,
                title="Read from the text (red = present, green = absent, yellow = ignored)",
                expand=False,
            )
        )
    if reading.mentions:
        table = Table(title="What the words were read as", expand=False)
        for col in ("words", "finding", "read through", "counted as", "why", "chars"):
            table.add_column(col)
        for m in reading.mentions:
            table.add_row(
                escape(f'"{m.text}"'),
                m.finding,
                escape("\n".join([*(m.concepts or ["phrase lexicon"]), *m.corrections])),
                Text(m.counted_as, style=_COUNTED_STYLE[m.counted_as]),
                m.reason,
                f"{m.start}-{m.end}",
            )
        console.print(table)
    if reading.resources_version:
        console.print(f"[dim]text resources {reading.resources_version}[/dim]")
    facts = []
    if reading.age is not None:
        facts.append(f'age {reading.age} (from "{reading.age_text}")')
    if reading.sex is not None:
        facts.append(f'sex {reading.sex} (from "{reading.sex_text}")')
    if reading.duration_days is not None:
        facts.append(f'duration about {reading.duration_days:g} days (from "{reading.duration_text}")')
    if reading.onset:
        facts.append(f"onset {reading.onset}")
    if facts:
        console.print(escape("Also read: " + "; ".join(facts)))
    for note in reading.notes:
        console.print(Text(note, style="yellow"))


def render_question(console: Console, question: Question) -> dict[str, bool | None]:
    """Ask one interview question at the terminal; returns the answers in the usual shape."""
    from rich.prompt import Prompt

    style = "bold red" if question.red_flag else "bold"
    console.print()
    console.print(Text(question.text, style=style))
    if question.help:
        console.print(Text(question.help, style="dim"))
    console.print(Text(f"(Why: {question.why})", style="dim italic"))
    if question.kind == "yes_no":
        assert question.finding is not None
        while True:
            reply = Prompt.ask(escape("yes, no or ? (not sure)"), console=console).strip().lower()
            if reply in _YES_NO:
                return {question.finding: _YES_NO[reply]}
            console.print("[yellow]Please answer yes, no or ? (not sure).[/yellow]")
    for number, option in enumerate(question.options, start=1):
        console.print(f"  {number}. {escape(option.text)}")
    single = question.kind == "single_choice"
    hint = "one number" if single else "numbers separated by commas"
    while True:
        reply = Prompt.ask(
            f"Choose {hint} (Enter if none apply or you are not sure)",
            default="",
            show_default=False,
            console=console,
        )
        picks = [p.strip() for p in reply.replace(" ", ",").split(",") if p.strip()]
        if all(p.isdigit() and 1 <= int(p) <= len(question.options) for p in picks) and (
            not single or len(picks) <= 1
        ):
            break
        console.print("[yellow]Please type the option numbers shown.[/yellow]")
    chosen = [question.options[int(p) - 1] for p in picks]
    answers: dict[str, bool | None] = {}
    if any(o.id == "none" and o.finding is None for o in chosen) and question.none_of_these:
        return {o.finding: False for o in question.options if o.finding}
    for option in chosen:
        if option.finding:
            answers[option.finding] = option.value
    return answers
