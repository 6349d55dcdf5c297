"""Administration commands: API keys, the audit store and the knowledge base."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from backtriage.errors import BacktriageError, ExitCode, KnowledgeBaseError
from backtriage.interfaces.cli_common import (
    DbOption,
    app,
    fail,
    open_store,
    settings_for,
    stderr_console,
    stdout_console,
)
from backtriage.knowledge.loader import KnowledgeBase, check_knowledge_base, load_knowledge_base

kb_app = typer.Typer(help="Work with the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(key_app, name="apikey")
audit_app = typer.Typer(help="Export or purge the audit store.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@key_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    database_url: DbOption = None,
) -> None:
    """Create an API key; the key itself is shown once and stored only as a hash."""
    key_id, secret = open_store(database_url).create_api_key(name)
    stdout_console().print(f"id: {key_id}\nkey: {secret}\n(store the key now; it cannot be shown again)")


@key_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id.")], database_url: DbOption = None
) -> None:
    """Revoke an API key at once."""
    try:
        open_store(database_url).revoke_api_key(key_id)
    except BacktriageError as exc:
        fail(str(exc), exc.exit_code)
    stdout_console().print(f"revoked {key_id}")


@key_app.command("list")
def apikey_list(database_url: DbOption = None) -> None:
    """List API keys (never the keys themselves)."""
    out = stdout_console()
    for k in open_store(database_url).list_api_keys():
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
    store = open_store(database_url)
    if str(output) == "-":
        count = store.export(sys.stdout)
    else:
        try:
            with output.open("w", encoding="utf-8") as fh:
                count = store.export(fh)
        except OSError as exc:
            fail(f"{output}: cannot write ({exc.strerror or exc.__class__.__name__})", ExitCode.INVALID_INPUT)
    stderr_console().print(f"exported {count} records")


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
    days = older_than or settings_for(database_url).retention_days
    deleted = open_store(database_url).purge(days)
    stdout_console().print(f"deleted {deleted} records older than {days} days")


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
        err = stderr_console()
        err.print(f"[bold red]knowledge base is invalid[/bold red] ({len(exc.problems)} problems):")
        for problem in exc.problems:
            err.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.KNOWLEDGE_BASE_INVALID)) from None
    _, warnings = check_knowledge_base(kb)
    err = stderr_console()
    for w in warnings:
        err.print(f"  warning: {w}", highlight=False, markup=False)
    stdout_console().print(
        f"[green]ok[/green]: knowledge base {kb.version} ({kb.content_hash[:12]}): "
        f"{len(kb.findings)} findings, {len(kb.conditions)} conditions, {len(kb.rules)} rules, "
        f"{len(kb.screens)} screens, {len(kb.advice)} advice texts, {len(kb.sources)} sources"
        + (f", {len(warnings)} warnings" if warnings else "")
    )
