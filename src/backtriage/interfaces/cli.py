"""The `backtriage` command line. Thin: parse, call the library, render.

Exit codes (see `backtriage.errors.ExitCode`): 0 ok, 2 bad input, 3 invalid knowledge base,
4 some cases in a batch failed (each failure is reported on its own output line), 70 a bug.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.markup import escape
from rich.text import Text

from backtriage import __version__
from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.errors import BacktriageError, ExitCode, InputProblem, InvalidInputError
from backtriage.interfaces import (
    cli_admin,  # noqa: F401 - registers apikey, audit and kb
    cli_screen,  # noqa: F401 - registers screen
    presentation,
)
from backtriage.interfaces.cli_common import (
    DbOption,
    FormatOption,
    KbOption,
    LangOption,
    OutputFormat,
    WorkersOption,
    app,
    example_files,
    fail,
    fail_on,
    load_engine,
    open_store,
    read_json,
    read_text,
    reader_kb,
    reader_locale,
    reader_number,
    settings_for,
    stderr_console,
    stdout_console,
)
from backtriage.interfaces.jsonl import Handler, run_lines
from backtriage.interfaces.presentation import languages, localise
from backtriage.interfaces.presentation.languages import Locale
from backtriage.interfaces.presentation.terminal import describe_prompt, resume_hint
from backtriage.interfaces.render import (
    render_assessment,
    render_conditions,
    render_findings,
    render_reading,
)
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.reasoning.engine import Engine
from backtriage.settings import Settings

__all__ = ["app", "main"]


class AssessFormat(StrEnum):
    """`assess` output: the formats of every command, and FHIR."""

    text = "text"
    json = "json"
    fhir = "fhir"


def assessment_json(a: Assessment, top: int) -> str:
    """One assessment as compact JSON, keeping the ``top`` most likely causes (0 = all)."""
    return presentation.top_causes(a, top).model_dump_json()


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
    output_format: Annotated[
        AssessFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output format; fhir: a FHIR R4 Bundle (RiskAssessment, Observations, ClinicalImpression, "
            "Device, Provenance) with the --top causes.",
        ),
    ] = AssessFormat.text,
    top: Annotated[int, typer.Option("--top", min=0, help="How many causes to show (0 = all).")] = 5,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Add the rules, likelihood ratios, sources and how the words were read."
        ),
    ] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print the summary to hand to a clinician instead.")
    ] = False,
    workers: WorkersOption = 1,
    kb_path: KbOption = None,
    lang: LangOption = None,
) -> None:
    """Assess a case: urgency, red flags, likely causes and what to do.

    Give free text, an answers file, or both (an explicit answer wins over the text); or a
    built-in example; or a JSON-lines batch. --lang sets the language of the words (the text,
    the summary and the words of the JSON); a FHIR bundle is for a record system and stays in the
    knowledge base's own words.
    """
    if jsonl is not None and (text is not None or answers is not None or example is not None):
        fail("--jsonl cannot be combined with TEXT, --answers or --example", ExitCode.INVALID_INPUT)
    if example is not None and (text is not None or answers is not None):
        fail("--example cannot be combined with TEXT or --answers", ExitCode.INVALID_INPUT)
    if jsonl is not None and output_format is AssessFormat.fhir:
        fail("--format fhir writes one bundle: it cannot be combined with --jsonl", ExitCode.INVALID_INPUT)
    if text == "-" and answers is not None and str(answers) == "-":
        fail("only one of TEXT and --answers can read standard input", ExitCode.INVALID_INPUT)
    locale = reader_locale(lang)
    if text is None and answers is None and example is None and jsonl is None:
        given = "give TEXT, --answers FILE, --example NAME or --jsonl FILE"
        fail_on(InvalidInputError(given, problem=InputProblem.NOTHING_GIVEN), locale)
    engine = load_engine(kb_path)
    if jsonl is not None:
        make = functools.partial(_make_assess_handler, kb_path, top, locale)
        raise typer.Exit(int(_batch(jsonl, make, workers)))
    try:
        if example is not None:
            examples = example_files()
            if example not in examples:
                raise InvalidInputError(f"no example '{example}'; choose from {', '.join(examples)}")
            data = read_json(examples[example])
        else:
            data = read_json(answers) if answers is not None else {}
        case = Case.from_mapping(data)
        content = read_text(text) if text is not None else None
        if content is not None:
            from backtriage.text import assess_text

            result = assess_text(content, case, engine=engine)
        else:
            result = engine.assess(case)
    except BacktriageError as exc:
        fail_on(exc, locale)
    if output_format is AssessFormat.fhir:
        from backtriage.interop.fhir import assessment_bundle

        bundle = assessment_bundle(engine.kb, presentation.top_causes(result, top))
        sys.stdout.write(bundle.model_dump_json(exclude_none=True, indent=2) + "\n")
        return
    locale = _as_written(locale, lang, result)
    kb = reader_kb(engine.kb, locale, kb_path)
    shown = _in_words(kb, result, locale, reader_number(locale))
    with languages.speaking(locale.language):
        if output_format is AssessFormat.json:
            sys.stdout.write(assessment_json(shown, top) + "\n")
        elif summary:
            sys.stdout.write(_summary(kb, case, shown, content))
        else:
            render_assessment(stdout_console(), kb, shown, explain=explain, top=top or len(result.conditions))


def _as_written(locale: Locale, lang: str | None, a: Assessment) -> Locale:
    """With no language chosen (--lang or BACKTRIAGE_LANG), a person is answered in the language
    they wrote in, when backtriage has words for it."""
    written = a.text.language if a.text is not None else None
    chosen = lang is not None or bool(os.environ.get("BACKTRIAGE_LANG"))
    if chosen or written is None or written == locale.language or written not in languages.languages():
        return locale
    return languages.parse_locale(written)


def _in_words(kb: KnowledgeBase, a: Assessment, locale: Locale, number: str) -> Assessment:
    """An assessment in the words of `kb` (the reader's language), with their emergency number."""
    if locale.language == languages.DEFAULT_LANGUAGE and number == a.emergency_number:
        return a
    return localise.assessment(kb, a, number)


def _summary(kb: KnowledgeBase, case: Case, a: Assessment, words: str | None) -> str:
    """The clinician's handover for one assessment, as plain text."""
    reading = a.text
    person = presentation.Person(
        age=case.age if case.age is not None else (reading.age if reading else None),
        sex=case.sex.value if case.sex else (reading.sex if reading else None),
        words=words,
    )
    answers = {f.id: f.present for f in a.findings if f.origin != "derived"}
    h = presentation.handover(kb, a, answers, datetime.now().astimezone(), person)
    return presentation.handover_text(h)


def _make_assess_handler(kb_path: Path | None, top: int, locale: Locale | None = None) -> Handler:
    """Handler for one ``assess --jsonl`` record (module level, so worker processes can build it);
    the words of each result in `locale`'s language."""
    settings = Settings.from_env()
    engine = Engine(load_knowledge_base(kb_path), settings.emergency_number)
    locale = locale or Locale()
    kb = languages.knowledge(engine.kb, locale.language, kb_path)
    number = settings.emergency_number_for(locale.language, locale.region)

    def shown(a: Assessment) -> str:
        return assessment_json(_in_words(kb, a, locale, number), top)

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
            return shown(engine.assess(case))
        from backtriage.text import assess_text

        return shown(assess_text(record_text, case, engine=engine))

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
        fail(f"{path}: no such file or cannot be read", ExitCode.INVALID_INPUT)
    try:
        failed, total = run_lines(path, sys.stdout, make_handler, workers=workers)
    except OSError as exc:
        fail(f"{path}: cannot be read ({exc.__class__.__name__})", ExitCode.INVALID_INPUT)
    except UnicodeDecodeError:
        fail(f"{path}: is not UTF-8 text", ExitCode.INVALID_INPUT)
    if failed:
        stderr_console().print(f'{failed} of {total} lines failed; see the lines with an "error" field.')
        return ExitCode.SOME_CASES_FAILED
    return ExitCode.OK


@app.command()
def findings(output_format: FormatOption = OutputFormat.text, kb_path: KbOption = None) -> None:
    """List the findings backtriage understands."""
    kb = load_engine(kb_path).kb
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(presentation.findings_listing(kb), indent=2) + "\n")
    else:
        render_findings(stdout_console(), kb)


@app.command()
def conditions(output_format: FormatOption = OutputFormat.text, kb_path: KbOption = None) -> None:
    """List the conditions (causes) backtriage considers."""
    kb = load_engine(kb_path).kb
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(presentation.conditions_listing(kb), indent=2) + "\n")
    else:
        render_conditions(stdout_console(), kb)


@app.command()
def examples() -> None:
    """List the built-in example cases (use with `assess --example NAME`)."""
    out = stdout_console()
    for name in example_files():
        out.print(name)


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="Text to read; '-' reads standard input.")],
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Show which words were read as which findings, and how ConText judged them."""
    from backtriage.text import understand

    try:
        content = read_text(text)
        found = understand(content)
    except BacktriageError as exc:
        fail(str(exc), exc.exit_code)
    assert found.reading is not None
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(presentation.parse_view(found)) + "\n")
    else:
        render_reading(stdout_console(), load_knowledge_base(), content, found.reading)


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
            fail("--jsonl cannot be combined with SENTENCE or --target", ExitCode.INVALID_INPUT)
        raise typer.Exit(int(_batch(jsonl, _make_context_handler, workers)))
    if sentence is None or target is None:
        fail("give SENTENCE and --target PHRASE, or --jsonl FILE", ExitCode.INVALID_INPUT)
    try:
        attrs = context_of(sentence, target)
    except BacktriageError as exc:
        fail(str(exc), exc.exit_code)
    sys.stdout.write(attrs.model_dump_json() + "\n")


@app.command()
def version() -> None:
    """Show the program and knowledge-base versions."""
    kb = load_engine(None).kb
    stdout_console().print(f"backtriage {__version__}, knowledge base {kb.version} ({kb.content_hash[:12]})")


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
    """Serve the patient's page (at /) and the HTTP API (docs at /docs, OpenAPI at /openapi.json)."""
    import os

    from backtriage.interfaces.api import create_app
    from backtriage.interfaces.api.serving import serve_app

    settings = settings_for(database_url, require_api_key=not no_auth)
    store = open_store(database_url)
    store.purge(settings.retention_days)
    mode = "open local mode, no API key" if no_auth else "API key required"
    if workers > 1:
        os.environ["BACKTRIAGE_DATABASE_URL"] = settings.database_url
        os.environ["BACKTRIAGE_REQUIRE_API_KEY"] = "false" if no_auth else "true"
        os.environ["BACKTRIAGE_STORE_TEXT"] = "true" if settings.store_text else "false"
        serve_app("backtriage.interfaces.api:create_app", host, port, mode, workers)
        return
    from backtriage.service import TriageService

    app_ = create_app(settings, TriageService(store, store_text=settings.store_text), warm_up=True)
    serve_app(app_, host, port, mode)


@app.command()
def interview(
    text: Annotated[
        str | None, typer.Argument(help="Your description, in your own words (asked for if not given).")
    ] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue an interview by id.")] = None,
    age: Annotated[int | None, typer.Option(min=0, max=120, help="Your age in years.")] = None,
    sex: Annotated[str | None, typer.Option(help="female or male.")] = None,
    database_url: DbOption = None,
    lang: LangOption = None,
) -> None:
    """Answer questions one at a time and get advice; red-flag questions come first."""
    locale = reader_locale(lang)
    with languages.speaking(locale.language):
        _interview(text, resume, age, sex, database_url, locale)


def _interview(
    text: str | None,
    resume: str | None,
    age: int | None,
    sex: str | None,
    database_url: str | None,
    locale: Locale,
) -> None:
    from rich.prompt import Prompt

    from backtriage.interfaces.render import render_question
    from backtriage.service import InterviewView, TriageService

    service = TriageService(open_store(database_url))
    kb = reader_kb(service.engine.kb, locale, None)
    out = stdout_console()
    view: InterviewView | None = None
    try:
        if resume:
            view = service.get_interview(resume)
        else:
            if text is None:
                text = Prompt.ask(escape(describe_prompt()), default="", show_default=False, console=out)
            case = Case.from_mapping({"answers": {}, "age": age, "sex": sex})
            view = service.start_interview(case, text=text or None)
        out.print(Text(resume_hint(view.id), style="dim"))
        while not view.done:
            assert view.question is not None
            answers = render_question(out, kb, localise.question(kb, view.question))
            view = service.answer(view.id, answers)
    except BacktriageError as exc:
        fail_on(exc, locale)
    except (EOFError, click.exceptions.Abort):
        resume = f"backtriage interview --resume {view.id}" if view is not None else ""
        again = f" (continue with: {resume})" if resume else ""
        message = f"no answer was given: the input ended{again}"
        fail_on(
            InvalidInputError(message, problem=InputProblem.INPUT_ENDED, values={"resume": resume}), locale
        )
    assert view.assessment is not None
    if view.stop_reason is not None:
        out.print(Text(presentation.words.stopped(view.stop_reason), style="dim"))
    render_assessment(out, kb, _in_words(kb, view.assessment, locale, reader_number(locale)))


def main() -> None:
    """Console entry point: never show a traceback to a user."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        stderr_console().print("interrupted")
        sys.exit(130)
    except BacktriageError as exc:
        stderr_console().print(f"error: {exc}", highlight=False, markup=False)
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        # The type only: the message could quote patient text, and stderr often ends up in a log.
        stderr_console().print(
            f"internal error ({exc.__class__.__name__}). This is a bug in backtriage; please report it.",
            highlight=False,
            markup=False,
        )
        sys.exit(int(ExitCode.INTERNAL_ERROR))


if __name__ == "__main__":
    main()
