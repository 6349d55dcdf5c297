"""The `backtriage` command line. Thin: parse, call the library, render.

Exit codes (see `backtriage.errors.ExitCode`): 0 ok, 2 bad input, 3 invalid knowledge base,
4 some cases in a batch failed (each failure is reported on its own output line), 70 a bug.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from rich.console import Console

from backtriage import __version__
from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.errors import BacktriageError, ExitCode, InvalidInputError, KnowledgeBaseError
from backtriage.interfaces.jsonl import Handler, run_lines
from backtriage.interfaces.render import (
    render_assessment,
    render_conditions,
    render_findings,
    render_reading,
)
from backtriage.knowledge.loader import KnowledgeBase, check_knowledge_base, load_knowledge_base
from backtriage.reasoning.engine import Engine
from backtriage.service import InterviewView, TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore

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
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(key_app, name="apikey")
audit_app = typer.Typer(help="Export or purge the audit store.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _out() -> Console:
    """A console for a command's normal output.

    Built when the command runs, not at import, so that width (``COLUMNS``), colour
    (``NO_COLOR``, ``FORCE_COLOR``, ``TERM``) and terminal detection follow the environment
    and the streams the command actually runs with.
    """
    return Console(soft_wrap=False)


def _err() -> Console:
    """A console for messages on standard error, built when needed (see `_out`)."""
    return Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Audit store URL (default: $BACKTRIAGE_DATABASE_URL or a SQLite file in your data folder).",
    ),
]
KbOption = Annotated[
    Path | None,
    typer.Option("--kb", help="Use the knowledge base in this folder instead of the shipped one."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers", "-w", min=1, max=64, help="Processes for --jsonl batches (each loads its own pipeline)."
    ),
]


def _fail(message: str, code: ExitCode) -> NoReturn:
    _err().print(f"[bold red]error:[/bold red] {message}", highlight=False, markup=True)
    raise typer.Exit(int(code))


def _engine(kb_path: Path | None) -> Engine:
    try:
        return Engine(load_knowledge_base(kb_path), Settings.from_env().emergency_number)
    except KnowledgeBaseError as exc:
        _fail(f"knowledge base is invalid: {exc}", ExitCode.KNOWLEDGE_BASE_INVALID)
    except InvalidInputError as exc:
        _fail(str(exc), exc.exit_code)


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
    except RecursionError:
        raise InvalidInputError(f"{name}: JSON nested too deeply") from None


def _read_text(text: str) -> str:
    if text != "-":
        return text
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("standard input is not UTF-8 text") from None


def assessment_json(a: Assessment, top: int) -> str:
    """One assessment as compact JSON, keeping the ``top`` most likely causes (0 = all)."""
    if top > 0:
        a = a.model_copy(update={"conditions": a.conditions[:top]})
    return a.model_dump_json()


@app.command()
def assess(
    text: Annotated[
        str | None,
        typer.Argument(
            help="What the person says, in their own words or as a clinical note; '-' reads standard input."
        ),
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            "-a",
            help="JSON file of answers (finding id -> true/false/null, "
            "plus age and sex); '-' reads standard input.",
        ),
    ] = None,
    example: Annotated[
        str | None, typer.Option("--example", "-e", help="Assess a built-in example case.")
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl",
            help='Assess many cases: one {"id", "text" and/or "answers"} '
            "object per line; writes one JSON result per line.",
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.text,
    top: Annotated[int, typer.Option("--top", min=0, help="How many causes to show (0 = all).")] = 5,
    workers: WorkersOption = 1,
    kb_path: KbOption = None,
) -> None:
    """Assess a case: urgency, red flags, likely causes and what to do.

    Give free text, an answers file, or both (an explicit answer wins over the text); or a
    built-in example; or a JSON-lines batch.
    """
    if jsonl is not None and (text is not None or answers is not None or example is not None):
        _fail("--jsonl cannot be combined with TEXT, --answers or --example", ExitCode.INVALID_INPUT)
    if example is not None and (text is not None or answers is not None):
        _fail("--example cannot be combined with TEXT or --answers", ExitCode.INVALID_INPUT)
    if text is None and answers is None and example is None and jsonl is None:
        _fail("give TEXT, --answers FILE, --example NAME or --jsonl FILE", ExitCode.INVALID_INPUT)
    if text == "-" and answers is not None and str(answers) == "-":
        _fail("only one of TEXT and --answers can read standard input", ExitCode.INVALID_INPUT)
    engine = _engine(kb_path)
    if jsonl is not None:
        make = functools.partial(_make_assess_handler, kb_path, top)
        raise typer.Exit(int(_batch(jsonl, make, workers)))
    try:
        if example is not None:
            examples = _examples()
            if example not in examples:
                raise InvalidInputError(f"no example '{example}'; choose from {', '.join(examples)}")
            data = _read_json(examples[example])
        else:
            data = _read_json(answers) if answers is not None else {}
        case = Case.from_mapping(data)
        if text is not None:
            from backtriage.text import assess_text

            result = assess_text(_read_text(text), case, engine=engine)
        else:
            result = engine.assess(case)
    except BacktriageError as exc:
        _fail(str(exc), exc.exit_code)
    if output_format is OutputFormat.json:
        sys.stdout.write(assessment_json(result, top) + "\n")
    else:
        render_assessment(_out(), result, top=top or len(result.conditions))


def _make_assess_handler(kb_path: Path | None, top: int) -> Handler:
    """Handler for one ``assess --jsonl`` record (module level, so worker processes can build it)."""
    engine = Engine(load_knowledge_base(kb_path), Settings.from_env().emergency_number)

    def handle(record: dict[str, Any]) -> str:
        record_text = record.get("text")
        if record_text is not None and not isinstance(record_text, str):
            raise InvalidInputError("'text' must be a string")
        if record_text is None and not isinstance(record.get("answers"), dict):
            raise InvalidInputError("missing 'text' or 'answers'")
        payload = {k: v for k, v in record.items() if k not in ("id", "text")}
        payload.setdefault("answers", {})
        case = Case.from_mapping(payload)
        if record_text is None:
            return assessment_json(engine.assess(case), top)
        from backtriage.text import assess_text

        return assessment_json(assess_text(record_text, case, engine=engine), top)

    return handle


def _make_context_handler() -> Handler:
    from backtriage.text import context_of

    def handle(record: dict[str, Any]) -> str:
        sentence, target = record.get("sentence"), record.get("target")
        if not isinstance(sentence, str) or not isinstance(target, str):
            raise InvalidInputError("'sentence' and 'target' must both be strings")
        return context_of(sentence, target).model_dump_json()

    return handle


def _batch(path: Path, make_handler: Callable[[], Handler], workers: int) -> ExitCode:
    if str(path) != "-" and not path.is_file():
        _fail(f"{path}: no such file or cannot be read", ExitCode.INVALID_INPUT)
    try:
        failed, total = run_lines(path, sys.stdout, make_handler, workers=workers)
    except OSError as exc:
        _fail(f"{path}: cannot be read ({exc.__class__.__name__})", ExitCode.INVALID_INPUT)
    except UnicodeDecodeError:
        _fail(f"{path}: is not UTF-8 text", ExitCode.INVALID_INPUT)
    if failed:
        _err().print(f'{failed} of {total} lines failed; see the lines with an "error" field.')
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
        render_findings(_out(), kb)


@app.command()
def conditions(output_format: FormatOption = OutputFormat.text, kb_path: KbOption = None) -> None:
    """List the conditions (causes) backtriage considers."""
    kb = _engine(kb_path).kb
    if output_format is OutputFormat.json:
        rows = [
            c.model_dump(
                mode="json",
                include={"id", "name", "lay_name", "icd10", "prior", "base_urgency", "description"},
            )
            for c in kb.conditions.values()
        ]
        sys.stdout.write(json.dumps({"kb_version": kb.version, "conditions": rows}, indent=2) + "\n")
    else:
        render_conditions(_out(), kb)


@app.command()
def examples() -> None:
    """List the built-in example cases (use with `assess --example NAME`)."""
    out = _out()
    for name in _examples():
        out.print(name)


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="Text to read; '-' reads standard input.")],
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Show which words were read as which findings, and how ConText judged them."""
    from backtriage.text import understand

    try:
        content = _read_text(text)
        found = understand(content)
    except BacktriageError as exc:
        _fail(str(exc), exc.exit_code)
    assert found.reading is not None
    if output_format is OutputFormat.json:
        body = {"answers": found.answers, **found.reading.model_dump(mode="json")}
        sys.stdout.write(json.dumps(body) + "\n")
    else:
        render_reading(_out(), content, found.reading)


@app.command()
def context(
    sentence: Annotated[str | None, typer.Argument(help="The sentence to judge.")] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="The phrase whose context you want.")
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option("--jsonl", help='Many lines of {"id", "sentence", "target"}; one JSON result per line.'),
    ] = None,
    workers: WorkersOption = 1,
) -> None:
    """ConText attributes (negated, uncertain, historical, hypothetical, experiencer) of a phrase."""
    from backtriage.text import context_of

    if jsonl is not None:
        if sentence is not None or target is not None:
            _fail("--jsonl cannot be combined with SENTENCE or --target", ExitCode.INVALID_INPUT)
        raise typer.Exit(int(_batch(jsonl, _make_context_handler, workers)))
    if sentence is None or target is None:
        _fail("give SENTENCE and --target PHRASE, or --jsonl FILE", ExitCode.INVALID_INPUT)
    try:
        attrs = context_of(sentence, target)
    except BacktriageError as exc:
        _fail(str(exc), exc.exit_code)
    sys.stdout.write(attrs.model_dump_json() + "\n")


@app.command()
def version() -> None:
    """Show the program and knowledge-base versions."""
    kb = _engine(None).kb
    _out().print(f"backtriage {__version__}, knowledge base {kb.version} ({kb.content_hash[:12]})")


def _settings(database_url: str | None, **overrides: Any) -> Settings:
    extra = {"database_url": database_url} if database_url else {}
    return Settings.from_env(**extra, **overrides)


def _store(database_url: str | None) -> AuditStore:
    try:
        store = AuditStore(_settings(database_url).database_url)
        store.upgrade()
    except InvalidInputError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server
        _fail(f"cannot open the audit store: {exc.__class__.__name__}", ExitCode.INVALID_INPUT)
    return store


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Open local mode: no API key needed. Only for a machine you trust."),
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Server processes.")] = 1,
    database_url: DbOption = None,
) -> None:
    """Run the HTTP API (docs at /docs, OpenAPI at /openapi.json)."""
    import os

    import uvicorn

    from backtriage.interfaces.api import create_app
    from backtriage.logs import server_log_config

    settings = _settings(database_url, require_api_key=not no_auth)
    store = _store(database_url)
    store.purge(settings.retention_days)
    _err().print(
        f"backtriage API on http://{host}:{port} "
        f"({'open local mode, no API key' if no_auth else 'API key required'})"
    )
    if workers > 1:
        os.environ["BACKTRIAGE_DATABASE_URL"] = settings.database_url
        os.environ["BACKTRIAGE_REQUIRE_API_KEY"] = "false" if no_auth else "true"
        os.environ["BACKTRIAGE_STORE_TEXT"] = "true" if settings.store_text else "false"
        uvicorn.run(
            "backtriage.interfaces.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            log_config=server_log_config(),
            access_log=False,
        )
        return
    app_ = create_app(settings, TriageService(store, store_text=settings.store_text), warm_up=True)
    uvicorn.run(
        app_, host=host, port=port, log_level="warning", log_config=server_log_config(), access_log=False
    )


@key_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    database_url: DbOption = None,
) -> None:
    """Create an API key; the key itself is shown once and stored only as a hash."""
    key_id, secret = _store(database_url).create_api_key(name)
    _out().print(f"id: {key_id}\nkey: {secret}\n(store the key now; it cannot be shown again)")


@key_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id.")], database_url: DbOption = None
) -> None:
    """Revoke an API key at once."""
    try:
        _store(database_url).revoke_api_key(key_id)
    except BacktriageError as exc:
        _fail(str(exc), exc.exit_code)
    _out().print(f"revoked {key_id}")


@key_app.command("list")
def apikey_list(database_url: DbOption = None) -> None:
    """List API keys (never the keys themselves)."""
    out = _out()
    for k in _store(database_url).list_api_keys():
        out.print(
            f"{k['id']}  {k['created_at']}  {'revoked' if k['revoked'] else 'active '}  {k['name']}",
            highlight=False,
            markup=False,
        )


@audit_app.command("export")
def audit_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write ('-' = stdout).")] = Path("-"),
    database_url: DbOption = None,
) -> None:
    """Write every interview and assessment as JSON lines."""
    store = _store(database_url)
    if str(output) == "-":
        count = store.export(sys.stdout)
    else:
        try:
            with output.open("w", encoding="utf-8") as fh:
                count = store.export(fh)
        except OSError as exc:
            _fail(
                f"{output}: cannot write ({exc.strerror or exc.__class__.__name__})", ExitCode.INVALID_INPUT
            )
    _err().print(f"exported {count} records")


@audit_app.command("purge")
def audit_purge(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than", min=1, help="Days to keep (default: $BACKTRIAGE_RETENTION_DAYS or 365)."
        ),
    ] = None,
    database_url: DbOption = None,
) -> None:
    """Delete records older than the retention period."""
    days = older_than or _settings(database_url).retention_days
    deleted = _store(database_url).purge(days)
    _out().print(f"deleted {deleted} records older than {days} days")


@app.command()
def interview(
    text: Annotated[
        str | None, typer.Argument(help="Your description, in your own words (asked for if not given).")
    ] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue an interview by id.")] = None,
    age: Annotated[int | None, typer.Option(min=0, max=120, help="Your age in years.")] = None,
    sex: Annotated[str | None, typer.Option(help="female or male.")] = None,
    database_url: DbOption = None,
) -> None:
    """Answer questions one at a time and get advice; red-flag questions come first."""
    from rich.prompt import Prompt

    from backtriage.interfaces.render import render_question

    service = TriageService(_store(database_url))
    out = _out()
    view: InterviewView | None = None
    try:
        if resume:
            view = service.get_interview(resume)
        else:
            if text is None:
                text = Prompt.ask(
                    "Describe what you feel, in your own words (Enter to skip)",
                    default="",
                    show_default=False,
                    console=out,
                )
            case = Case.from_mapping({"answers": {}, "age": age, "sex": sex})
            view = service.start_interview(case, text=text or None)
        out.print(f"[dim]Interview {view.id} (resume with: backtriage interview --resume {view.id})[/dim]")
        while not view.done:
            assert view.question is not None
            answers = render_question(out, view.question)
            view = service.answer(view.id, answers)
    except BacktriageError as exc:
        _fail(str(exc), exc.exit_code)
    except (EOFError, click.exceptions.Abort):
        again = f" (continue with: backtriage interview --resume {view.id})" if view is not None else ""
        _fail(f"no answer was given: the input ended{again}", ExitCode.INVALID_INPUT)
    assert view.assessment is not None
    render_assessment(out, view.assessment)


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
        err = _err()
        err.print(f"[bold red]knowledge base is invalid[/bold red] ({len(exc.problems)} problems):")
        for problem in exc.problems:
            err.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.KNOWLEDGE_BASE_INVALID)) from None
    _, warnings = check_knowledge_base(kb)
    err = _err()
    for w in warnings:
        err.print(f"  warning: {w}", highlight=False, markup=False)
    _out().print(
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
        _err().print("interrupted")
        sys.exit(130)
    except BacktriageError as exc:
        _err().print(f"error: {exc}", highlight=False, markup=False)
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        # The type only: the message could quote patient text, and stderr often ends up in a log.
        _err().print(
            f"internal error ({exc.__class__.__name__}). This is a bug in backtriage; please report it.",
            highlight=False,
            markup=False,
        )
        sys.exit(int(ExitCode.INTERNAL_ERROR))


if __name__ == "__main__":
    main()
