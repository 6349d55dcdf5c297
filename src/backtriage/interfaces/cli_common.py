"""What the command-line modules share: the app, consoles, options, failing with an exit code,
and opening the knowledge base and the audit store."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from backtriage.errors import BacktriageError, ExitCode, InputProblem, InvalidInputError, KnowledgeBaseError
from backtriage.interfaces.presentation import languages
from backtriage.interfaces.presentation.languages import Locale
from backtriage.interfaces.presentation.problems import error_label, problem_words
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.reasoning.engine import Engine
from backtriage.settings import Settings

if TYPE_CHECKING:
    from backtriage.storage import AuditStore

app = typer.Typer(
    name="backtriage",
    help="Triage numbness and tingling in the back: urgency, likely causes, and why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def stdout_console() -> Console:
    """A console for a command's normal output.

    Built when the command runs, not at import, so that width (``COLUMNS``), colour
    (``NO_COLOR``, ``FORCE_COLOR``, ``TERM``) and terminal detection follow the environment
    and the streams the command actually runs with.
    """
    return Console(soft_wrap=False)


def stderr_console() -> Console:
    """A console for messages on standard error, built when needed (see `stdout_console`)."""
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
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="The language of what people read: en or es (default: $BACKTRIAGE_LANG, else en). A region "
        "may follow (es-MX): it chooses the emergency number where BACKTRIAGE_EMERGENCY_NUMBERS maps it.",
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers", "-w", min=1, max=64, help="Processes for --jsonl batches (each loads its own pipeline)."
    ),
]


def fail(message: str, code: ExitCode, label: str = "error") -> NoReturn:
    """One line on standard error, then the exit code. The message is printed as written:
    square brackets in it ("pip install '.[spark]'") are not markup."""
    stderr_console().print(
        f"[bold red]{escape(label)}:[/bold red] {escape(message)}", highlight=False, markup=True
    )
    raise typer.Exit(int(code))


def fail_on(error: BacktriageError, locale: Locale) -> NoReturn:
    """`fail` with the error said in the reader's language when it is a problem they can put
    right (a text too long, a file that is not there); otherwise as the error says it."""
    with languages.speaking(locale.language):
        fail(problem_words(error), error.exit_code, error_label())


def load_engine(kb_path: Path | None) -> Engine:
    try:
        return Engine(load_knowledge_base(kb_path), Settings.from_env().emergency_number)
    except KnowledgeBaseError as exc:
        fail(f"knowledge base is invalid: {exc}", ExitCode.KNOWLEDGE_BASE_INVALID)
    except InvalidInputError as exc:
        fail(str(exc), exc.exit_code)


def reader_locale(lang: str | None) -> Locale:
    """The locale asked for with --lang, else BACKTRIAGE_LANG; an unknown one exits 2."""
    try:
        return languages.parse_locale(lang if lang is not None else Settings.from_env().language)
    except InvalidInputError as exc:
        fail(str(exc), exc.exit_code)


def reader_kb(kb: KnowledgeBase, locale: Locale, kb_path: Path | None) -> KnowledgeBase:
    """`kb` in the reader's language (its words from `kb_path`'s translations when it has them)."""
    try:
        return languages.knowledge(kb, locale.language, kb_path)
    except KnowledgeBaseError as exc:
        fail(f"knowledge base is invalid: {exc}", ExitCode.KNOWLEDGE_BASE_INVALID)


def reader_number(locale: Locale) -> str:
    """The emergency number for the reader's locale (BACKTRIAGE_EMERGENCY_NUMBERS, else the one)."""
    return Settings.from_env().emergency_number_for(locale.language, locale.region)


def example_files() -> dict[str, Path]:
    folder = Path(str(resources.files("backtriage") / "examples"))
    return {p.stem: p for p in sorted(folder.glob("*.json"))}


def read_json(path: Path | str) -> Any:
    name = "standard input" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(
            f"{name}: no such file", problem=InputProblem.NO_SUCH_FILE, values={"name": name}
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"{name}: cannot read ({exc.__class__.__name__})",
            problem=InputProblem.CANNOT_READ,
            values={"name": name},
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{name}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{name}: JSON nested too deeply") from None


def read_text(text: str) -> str:
    if text != "-":
        return text
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("standard input is not UTF-8 text", problem=InputProblem.NOT_UTF8) from None


def settings_for(database_url: str | None, **overrides: Any) -> Settings:
    extra = {"database_url": database_url} if database_url else {}
    return Settings.from_env(**extra, **overrides)


def open_store(database_url: str | None) -> AuditStore:
    # imported here: SQLAlchemy and Alembic are a third of a second that `assess` never uses
    from backtriage.storage import AuditStore

    try:
        store = AuditStore(settings_for(database_url).database_url)
        store.upgrade()
    except InvalidInputError as exc:
        fail(str(exc), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server
        fail(f"cannot open the audit store: {exc.__class__.__name__}", ExitCode.INVALID_INPUT)
    return store
