"""The `backtriage` command line. Thin: parse, call the library, render.

Exit codes (see `backtriage.errors.ExitCode`): 0 ok, 2 bad input, 3 invalid knowledge base,
4 some cases in a batch failed (each failure is reported on its own output line), 70 a bug.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console

from backtriage import __version__
from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.errors import BacktriageError, ExitCode, InvalidInputError, KnowledgeBaseError
from backtriage.interfaces.render import render_assessment, render_conditions, render_findings
from backtriage.knowledge.loader import KnowledgeBase, check_knowledge_base, load_knowledge_base
from backtriage.reasoning.engine import Engine

__all__ = ["app", "main"]

app = typer.Typer(
    name="backtriage",
    help="Triage numbness and tingling in the back: urgency, likely causes, and why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
kb_app = typer.Typer(help="Work with the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

_out = Console(soft_wrap=False)
_err = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


KbOption = Annotated[
    Path | None,
    typer.Option("--kb", help="Use the knowledge base in this folder instead of the shipped one."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


def _fail(message: str, code: ExitCode) -> NoReturn:
    _err.print(f"[bold red]error:[/bold red] {message}", highlight=False, markup=True)
    raise typer.Exit(int(code))


def _engine(kb_path: Path | None) -> Engine:
    try:
        return Engine(load_knowledge_base(kb_path))
    except KnowledgeBaseError as exc:
        _fail(f"knowledge base is invalid: {exc}", ExitCode.KNOWLEDGE_BASE_INVALID)


def _examples() -> dict[str, Path]:
    folder = Path(str(resources.files("backtriage") / "examples"))
    return {p.stem: p for p in sorted(folder.glob("*.json"))}


def _read_json(path: Path | str) -> Any:
    name = "standard input" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{name}: cannot read ({exc.__class__.__name__})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{name}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None


def assessment_json(a: Assessment, top: int) -> str:
    """One assessment as compact JSON, keeping the ``top`` most likely causes (0 = all)."""
    if top > 0:
        a = a.model_copy(update={"conditions": a.conditions[:top]})
    return a.model_dump_json()


@app.command()
def assess(
    answers: Annotated[
        Path | None,
        typer.Option("--answers", "-a", help="JSON file of answers (finding id -> true/false/null, "
                     "plus age and sex); '-' reads standard input."),
    ] = None,
    example: Annotated[
        str | None, typer.Option("--example", "-e", help="Assess a built-in example case.")
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option("--jsonl", help="Assess many cases: one {\"id\", \"answers\"} object per line; "
                     "writes one JSON result per line."),
    ] = None,
    output_format: FormatOption = OutputFormat.text,
    top: Annotated[int, typer.Option("--top", min=0, help="How many causes to show (0 = all).")] = 5,
    kb_path: KbOption = None,
) -> None:
    """Assess a case: urgency, red flags, likely causes and what to do."""
    chosen = [x for x in (answers, example, jsonl) if x is not None]
    if len(chosen) != 1:
        _fail("give exactly one of --answers FILE, --example NAME or --jsonl FILE",
              ExitCode.INVALID_INPUT)
    engine = _engine(kb_path)
    if jsonl is not None:
        raise typer.Exit(int(_assess_jsonl(engine, jsonl, top, sys.stdout)))
    try:
        if example is not None:
            examples = _examples()
            if example not in examples:
                raise InvalidInputError(
                    f"no example '{example}'; choose from {', '.join(examples)}")
            data = _read_json(examples[example])
        else:
            assert answers is not None
            data = _read_json(answers)
        result = engine.assess(Case.from_mapping(data))
    except BacktriageError as exc:
        _fail(str(exc), exc.exit_code)
    if output_format is OutputFormat.json:
        sys.stdout.write(assessment_json(result, top) + "\n")
    else:
        render_assessment(_out, result, top=top or len(result.conditions))


def _assess_jsonl(engine: Engine, path: Path, top: int, out: TextIO) -> ExitCode:
    """Assess every line; a bad line becomes an error line, never a silent drop."""
    try:
        stream = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    except OSError:
        _fail(f"{path}: no such file or cannot be read", ExitCode.INVALID_INPUT)
    failed = total = 0
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            total += 1
            case_id: Any = None
            try:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInputError(f"not valid JSON ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise InvalidInputError("each line must be a JSON object")
                case_id = record.get("id")
                if case_id is None:
                    raise InvalidInputError("missing 'id'")
                if not isinstance(record.get("answers"), dict):
                    raise InvalidInputError("missing 'answers' object")
                payload = {k: v for k, v in record.items() if k != "id"}
                result = engine.assess(Case.from_mapping(payload))
            except BacktriageError as exc:
                failed += 1
                out.write(json.dumps({"id": case_id, "line": number, "error": str(exc)}) + "\n")
                continue
            body = assessment_json(result, top)
            out.write('{"id":' + json.dumps(case_id) + "," + body[1:] + "\n")
    if failed:
        _err.print(f"{failed} of {total} cases failed; see the lines with an \"error\" field.")
        return ExitCode.SOME_CASES_FAILED
    return ExitCode.OK


@app.command()
def findings(output_format: FormatOption = OutputFormat.text, kb_path: KbOption = None) -> None:
    """List the findings backtriage understands."""
    kb = _engine(kb_path).kb
    if output_format is OutputFormat.json:
        rows = [f.model_dump(mode="json", exclude_defaults=True) for f in kb.findings.values()]
        sys.stdout.write(json.dumps({"kb_version": kb.version, "findings": rows}, indent=2) + "\n")
    else:
        render_findings(_out, kb)


@app.command()
def conditions(output_format: FormatOption = OutputFormat.text, kb_path: KbOption = None) -> None:
    """List the conditions (causes) backtriage considers."""
    kb = _engine(kb_path).kb
    if output_format is OutputFormat.json:
        rows = [
            c.model_dump(mode="json", include={"id", "name", "lay_name", "icd10", "prior",
                                               "base_urgency", "description"})
            for c in kb.conditions.values()
        ]
        sys.stdout.write(json.dumps({"kb_version": kb.version, "conditions": rows}, indent=2) + "\n")
    else:
        render_conditions(_out, kb)


@app.command()
def examples() -> None:
    """List the built-in example cases (use with `assess --example NAME`)."""
    for name in _examples():
        _out.print(name)


@app.command()
def version() -> None:
    """Show the program and knowledge-base versions."""
    kb = _engine(None).kb
    _out.print(f"backtriage {__version__}, knowledge base {kb.version} ({kb.content_hash[:12]})")


@kb_app.command("check")
def kb_check(
    path: Annotated[
        Path | None, typer.Argument(help="Folder of knowledge-base files (default: shipped).")
    ] = None,
) -> None:
    """Validate the knowledge-base files and report every problem found."""
    try:
        kb: KnowledgeBase = load_knowledge_base(path)
    except KnowledgeBaseError as exc:
        _err.print(f"[bold red]knowledge base is invalid[/bold red] ({len(exc.problems)} problems):")
        for problem in exc.problems:
            _err.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.KNOWLEDGE_BASE_INVALID)) from None
    _, warnings = check_knowledge_base(kb)
    for w in warnings:
        _err.print(f"  warning: {w}", highlight=False, markup=False)
    _out.print(
        f"[green]ok[/green]: knowledge base {kb.version} ({kb.content_hash[:12]}): "
        f"{len(kb.findings)} findings, {len(kb.conditions)} conditions, {len(kb.rules)} rules, "
        f"{len(kb.screens)} screens, {len(kb.advice)} advice texts, {len(kb.sources)} sources"
        + (f", {len(warnings)} warnings" if warnings else "")
    )


def main() -> None:
    """Console entry point: never show a traceback to a user."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _err.print("interrupted")
        sys.exit(130)
    except BacktriageError as exc:
        _err.print(f"error: {exc}", highlight=False, markup=False)
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        _err.print(
            f"internal error: {exc.__class__.__name__}: {exc}. This is a bug in backtriage; "
            "please report it.", highlight=False, markup=False,
        )
        sys.exit(int(ExitCode.INTERNAL_ERROR))


if __name__ == "__main__":
    main()
