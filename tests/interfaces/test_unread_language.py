"""Words in a language backtriage cannot read are said to be unread, before anything else, with the
warning-sign questions and the number to call; never a result that reads as a triage of them
(views.urgency_view, render.render_assessment, the page's result.html)."""

from __future__ import annotations

import gettext
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from backtriage.domain.assessment import Assessment, ReadingNote
from backtriage.domain.case import Answer, Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api import create_app
from backtriage.interfaces.cli import app
from backtriage.interfaces.presentation import catalogue, words
from backtriage.interfaces.render import render_assessment
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.engine import Engine, default_engine
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore
from backtriage.text.identify import identify, unreadable_reading

FRENCH = "j'ai le dos engourdi depuis trois jours et je ne sens plus rien quand je m'essuie"
GERMAN = "mein Rücken ist seit drei Tagen taub und ich kann nicht richtig pinkeln"
#: Words of a result that reads as a triage of the text.
TRIAGE = ["ROUTINE", "See a GP", "What might be causing it", "Looking after yourself", "You said"]


def _not_read(engine: Engine, text: str = FRENCH, answers: dict[str, Answer] | None = None) -> Assessment:
    """An assessment of a text that was not read, as assess_text makes it: explicit answers only."""
    guess = identify(text, {"en"})
    assert not guess.supported
    a = engine.assess(Case(answers=answers or {}))
    return a.model_copy(update={"text": unreadable_reading(text, guess)})


def _terminal(kb: KnowledgeBase, a: Assessment, explain: bool = False) -> list[str]:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render_assessment(console, kb, a, explain=explain)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_terminal_says_the_words_were_not_read_then_asks_the_questions(
    engine: Engine, kb: KnowledgeBase
) -> None:
    a = _not_read(engine)
    lines = _terminal(kb, a)
    out = _flat(" ".join(line.strip("│╭╮╰╯─ ") for line in lines))
    assert "We could not read your words" in lines[0]
    notice = out.index("Your words seem to be in French, which backtriage cannot read yet")
    assert notice < out.index("call 999 now") < out.index(a.pending_red_flags[0].question)
    for p in a.pending_red_flags:
        assert _flat(p.question) in out
    assert out.index(_flat(a.pending_red_flags[-1].question)) < out.index("run: backtriage interview")
    assert not [w for w in TRIAGE if w in out], out
    assert len(lines) <= 30 and max(map(len, lines)) <= 80
    assert out.count("nothing you wrote was used") == 1  # said once, not again with the reading notes


def test_the_clinicians_detail_still_leads_with_the_notice(engine: Engine, kb: KnowledgeBase) -> None:
    lines = _terminal(kb, _not_read(engine, GERMAN), explain=True)
    assert "We could not read your words" in lines[0]
    assert "German" in _flat(" ".join(lines[:6]))


def test_answers_alone_give_a_result_that_says_it_comes_from_them(engine: Engine, kb: KnowledgeBase) -> None:
    screen = {"saddle_anaesthesia": False, "bladder_dysfunction": False, "bowel_dysfunction": False}
    a = _not_read(engine, answers=dict(screen))
    assert not a.pending_red_flags
    lines = _terminal(kb, a)
    out = _flat(" ".join(lines))
    assert out.index("nothing you wrote was used") < out.index("comes from your answers alone")
    assert out.index("answers alone") < out.index(presentation.urgency_view(a).name.upper())


def test_an_emergency_from_the_answers_still_comes_first(engine: Engine, kb: KnowledgeBase) -> None:
    a = _not_read(engine, answers={"saddle_anaesthesia": True})
    lines = _terminal(kb, a)
    assert "EMERGENCY" in lines[0] and "999" in lines[0]
    assert "nothing you wrote was used" in _flat(" ".join(lines[:8]))


def test_the_views_and_the_api_words_give_no_triage_of_the_words(engine: Engine, kb: KnowledgeBase) -> None:
    a = _not_read(engine)
    view = presentation.result_view(kb, a)
    assert not view.urgency.outcome and view.urgency.headline == "We could not read your words"
    assert view.causes == [] and view.self_care == [] and view.why == []
    assert view.still_to_ask == [p.question for p in a.pending_red_flags]
    assert ReadingNote.LANGUAGE_NOT_READ.value not in " ".join(view.reading_notes)
    said = presentation.explanation(kb, a)
    assert said.headline == "We could not read your words" and "999" in said.action
    assert said.why[0].startswith("Your words seem to be in French")
    assert said.causes == [] and said.still_to_ask == view.still_to_ask


class _Spanish(gettext.NullTranslations):
    """A catalogue in Spanish with no messages translated yet: its header names its language."""

    def info(self) -> dict[str, str]:
        return {"language": "es"}


def test_the_language_is_named_in_the_language_being_read() -> None:
    assert words.language_name("fr") == "French"
    with catalogue.using(_Spanish()):
        assert words.language_name("fr") == "francés"
        assert "francés" in words.note(ReadingNote.LANGUAGE_NOT_READ, "fr")
    assert words.language_name("xx-not-a-language") == "xx-not-a-language"
    assert "a language backtriage cannot read" in words.note(ReadingNote.LANGUAGE_NOT_READ)


def test_the_command_line_says_so_first(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["assess", GERMAN], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "We could not read your words" in result.stdout.splitlines()[0]
    assert "German" in result.stdout and "ROUTINE" not in result.stdout


@pytest.fixture
def page(tmp_path: Path) -> Iterator[TestClient]:
    store = AuditStore(f"sqlite:///{tmp_path / 'web.db'}")
    store.upgrade()
    config = Settings(database_url=store.url)
    with TestClient(create_app(config, TriageService(store, default_engine()))) as client:
        client.get("/")
        yield client


def _interview(client: TestClient, text: str, choice: str) -> str:
    """Start with `text` and give every question `choice` (yes / no / unsure); the result page."""
    r = client.post("/start", data={"text": text, "csrf": client.cookies["bt_csrf"]})
    for _ in range(40):
        if str(r.url).endswith("/result"):
            return html.unescape(r.text)
        picked = choice if 'name="option"' not in r.text else "unsure"
        r = client.post("/interview/answer", data={"choice": picked, "csrf": client.cookies["bt_csrf"]})
    raise AssertionError("the interview did not end")


def _main(page_html: str) -> str:
    main = re.search(r"<main[^>]*>(.*)</main>", page_html, flags=re.S)
    return main.group(1) if main else page_html


def test_the_page_says_so_first_with_the_number_and_the_open_questions(page: TestClient) -> None:
    shown = _main(_interview(page, FRENCH, "unsure"))
    notice = shown.index("Your words seem to be in French")
    assert shown.index("We could not read your words") < notice < shown.index('href="tel:999"')
    assert shown.index('href="tel:999"') < shown.index("Questions still open")
    assert "Is there numbness, tingling or reduced feeling between your legs" in shown
    assert 'class="outcome ' not in shown and 'class="outcome-again' not in shown
    assert not [w for w in TRIAGE + ["See a GP or physiotherapist"] if w in shown]


def test_the_page_puts_the_notice_before_an_outcome_from_the_answers(page: TestClient) -> None:
    shown = _main(_interview(page, FRENCH, "no"))
    assert shown.index("nothing you wrote was used") < shown.index('class="outcome ')
    assert "comes from your answers alone" in shown


def test_the_emergency_screen_says_the_words_were_not_read(page: TestClient) -> None:
    """An emergency from the answers alone: the call comes first, then the notice that the words
    in French were not used (so nobody takes the emergency for a reading of them)."""
    shown = _main(_interview(page, FRENCH, "yes"))
    assert "emergency-screen" in shown
    assert shown.index('href="tel:999"') < shown.index("Your words seem to be in French")


def test_the_clinicians_summary_says_the_words_were_not_read(engine: Engine, kb: KnowledgeBase) -> None:
    from datetime import UTC, datetime

    from backtriage.interfaces.presentation.handover import handover, handover_text

    a = _not_read(engine, answers={"saddle_anaesthesia": True})
    text = _flat(
        handover_text(handover(kb, a, {"saddle_anaesthesia": True}, datetime(2026, 1, 1, tzinfo=UTC)))
    )
    assert "They wrote in French, which backtriage cannot read yet: nothing they wrote was used" in text
    assert text.index("Outcome:") < text.index("They wrote in French")
    read = engine.assess(Case(answers={"saddle_anaesthesia": True}))
    assert "cannot read" not in handover_text(handover(kb, read, {}, datetime(2026, 1, 1, tzinfo=UTC)))
