"""Every word a person or clinician reads comes from the message catalogue or the knowledge base.

A pseudo-locale transforms every catalogue message and every prose field of a copy of the
knowledge base (vowels accented, each message bracketed). The terminal result, the interview's
prompts, the clinician's summary and every page are then rendered; any plain English word left is
a hard-coded string, and any snake_case word is a raw id that escaped into what people read.
"""

from __future__ import annotations

import gettext
import html.parser
import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from backtriage.domain.case import Case
from backtriage.interfaces import presentation
from backtriage.interfaces.api import create_app
from backtriage.interfaces.cli import app
from backtriage.interfaces.presentation import catalogue
from backtriage.interfaces.presentation.terminal import question_prompt
from backtriage.interfaces.render import render_question
from backtriage.knowledge import loader
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.reasoning.engine import Engine
from backtriage.reasoning.interview import Interviewer
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage.store import AuditStore

_ACCENTS = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")
#: Placeholders and format fields pass through untouched: %(name)s, %d, {emergency_number}.
_FIELD = re.compile(r"%\([a-z_]+\)[sdgf]|%[sdgf]|\{[a-z_]+\}")


def pseudo(text: str) -> str:
    pieces, last = [], 0
    for m in _FIELD.finditer(text):
        pieces += [text[last : m.start()].translate(_ACCENTS), m.group()]
        last = m.end()
    pieces.append(text[last:].translate(_ACCENTS))
    return "\u27e6" + "".join(pieces) + "\u27e7"


class Pseudo(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return pseudo(singular if n == 1 else plural)


#: Fields of the knowledge base that people read, per file.
_PROSE = {"label", "lay_label", "question", "help", "name", "lay_name", "description", "text", "rationale"}


def _pseudo_data(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _pseudo_data(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_pseudo_data(v, key) for v in value]
    if isinstance(value, str) and key in _PROSE:
        return pseudo(value)
    return value


@pytest.fixture(scope="module")
def pseudo_kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shipped = Path(loader.__file__).parent / "data"
    folder = tmp_path_factory.mktemp("kb")
    for path in shipped.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name not in {"manifest.yaml", "sources.yaml", "policy.yaml"}:
            data = _pseudo_data(data)
        (folder / path.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for extra in shipped.iterdir():
        if extra.suffix != ".yaml":
            shutil.copytree(extra, folder / extra.name) if extra.is_dir() else shutil.copy(extra, folder)
    return folder


@pytest.fixture(scope="module")
def pseudo_kb(pseudo_kb_dir: Path) -> KnowledgeBase:
    return load_knowledge_base(pseudo_kb_dir)


@pytest.fixture(autouse=True)
def speak_pseudo() -> Iterator[None]:
    catalogue.set_default(Pseudo())
    yield
    catalogue.set_default(None)


#: Words that are the same in every language: the program's name and its commands' words.
_ALLOWED = {"backtriage", "interview", "explain", "serve", "http", "https", "v1", "interviews", "POST"}
_WORD = re.compile(r"[\w'-]+")


def leaks(text: str, own_words: str = "", citations: list[str] | None = None) -> list[str]:
    """Plain English words (a lower-case ASCII vowel, untransformed) and raw ids in `text`; the
    person's own words and published citations are left as they are."""
    for kept in [own_words, *(citations or [])]:
        if kept:
            text = text.replace(kept, " ")
    found = []
    for word in _WORD.findall(text):
        word = word.strip("'-_")
        if word in _ALLOWED or word.isupper() or re.search(r"\d", word) or not word.isascii():
            continue  # abbreviations (GP, MRI, UTC), codes and versions, transformed words
        if "_" in word or re.search(r"[aeiou]", word):
            found.append(word)
    return sorted(set(found))


def test_the_checker_catches_english_and_ids() -> None:
    assert leaks("\u27e6Cáll 999 nów\u27e7") == []
    assert leaks("\u27e6Cáll\u27e7 now saddle_anaesthesia") == ["now", "saddle_anaesthesia"]
    assert leaks("GP MRI backtriage 29b1bed6c34b") == []


EXAMPLES = ["cauda-equina", "posture", "sciatica", "stenosis"]
TEXTS = [
    "tingling in my lower back when I sit at my desk",
    "cant feel when i wipe and havent peed since this morning",
    "my face drooped and my arm and back went numb",
]


@pytest.mark.parametrize("args", [["--example", e] for e in EXAMPLES] + [[t] for t in TEXTS])
@pytest.mark.parametrize("explain", [False, True])
def test_the_terminal_result_has_no_hard_coded_english(
    pseudo_kb_dir: Path, pseudo_kb: KnowledgeBase, args: list[str], explain: bool
) -> None:
    more = ["--explain"] if explain else []
    width = "2000" if explain else "80"  # explained: unwrapped, so citations can be taken out whole
    result = CliRunner().invoke(
        app, ["assess", *args, "--kb", str(pseudo_kb_dir), *more], env={"COLUMNS": width}
    )
    assert result.exit_code == 0, result.output
    shown = result.stdout
    if explain:  # the reading table quotes the person's words; sources are cited as published
        shown = re.sub(r'"[^"]*"', " ", shown)
        for source in pseudo_kb.sources.values():
            shown = shown.replace(source.citation, " ")
    assert leaks(shown) == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_summary_has_no_hard_coded_english(pseudo_kb: KnowledgeBase, example: str) -> None:
    data = yaml.safe_load(
        (Path(presentation.__file__).parents[2] / "examples" / f"{example}.json").read_text()
    )
    case = Case.from_mapping(data)
    a = Engine(pseudo_kb).assess(case)
    person = presentation.Person(age=case.age, sex=case.sex.value if case.sex else None, words="my own words")
    h = presentation.handover(pseudo_kb, a, dict(case.answers), datetime.now(UTC), person)
    assert leaks(presentation.handover_text(h), own_words="my own words") == []
    assert presentation.handover_pdf(h).startswith(b"%PDF")


def test_every_interview_prompt_has_no_hard_coded_english(
    pseudo_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    interviewer = Interviewer(Engine(pseudo_kb))
    answers: dict[str, bool | None] = {}
    asked: list[str] = []
    seen = 0
    for _ in range(40):
        step = interviewer.step(Case(answers=answers), asked)
        if step.done:
            assert step.stop_reason is not None
            assert leaks(presentation.words.stopped(step.stop_reason)) == []
            break
        q = step.question
        assert q is not None
        console = Console(file=io.StringIO(), width=80)
        reply = "no" if q.kind == "yes_no" else "1" if q.kind == "single_choice" else "0"
        monkeypatch.setattr(console, "input", lambda *a, r=reply, **k: r)
        got = render_question(console, pseudo_kb, q)
        prompt = question_prompt(q, presentation.words.why_asked(pseudo_kb, q))
        shown = console.file.getvalue() + prompt.ask + prompt.retry  # type: ignore[attr-defined]
        assert leaks(shown) == [], q.id
        answers.update(got or {o.finding: False for o in q.options if o.finding})
        if q.finding:
            answers.setdefault(q.finding, False)
        asked.append(q.id)
        seen += 1
    assert seen >= 5


class _Text(html.parser.HTMLParser):
    """What a page shows and says: text, and the attributes read aloud or shown."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        a = dict(attrs)
        for name in ("title", "alt", "aria-label", "placeholder"):
            if a.get(name):
                self.parts.append(str(a[name]))
        if tag == "input" and a.get("type") in {"submit", "button"} and a.get("value"):
            self.parts.append(str(a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _shown(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


@pytest.fixture
def page(tmp_path: Path, pseudo_kb: KnowledgeBase) -> Iterator[TestClient]:
    store = AuditStore(f"sqlite:///{tmp_path / 'web.db'}")
    store.upgrade()
    service = TriageService(store, Engine(pseudo_kb))
    with TestClient(create_app(Settings(database_url=store.url), service)) as client:
        yield client


def _post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data={**data, "csrf": client.cookies["bt_csrf"]})


WORDS = "cant feel when i wipe and havent peed since this morning"


@pytest.mark.parametrize("text", ["", WORDS])
def test_every_page_has_no_hard_coded_english(page: TestClient, pseudo_kb: KnowledgeBase, text: str) -> None:
    pages = [page.get("/").text]
    r = _post(page, "/start", {"text": text})
    for _ in range(40):
        pages.append(r.text)
        if str(r.url).endswith("/result"):
            break
        choice = "none" if 'value="none"' in r.text else "unsure" if 'name="option"' in r.text else "no"
        r = _post(page, "/interview/answer", {"choice": choice})
    assert str(r.url).endswith("/result")
    pages.append(page.get("/result?details=1").text)
    pages.append(page.get("/summary.txt").text)
    for i, shown in enumerate(pages):
        text_of = _shown(shown) if "<html" in shown.lower() else shown
        found = leaks(" ".join(text_of.split()), text, [s.citation for s in pseudo_kb.sources.values()])
        assert found == [], (i, " ".join(found[:60]))
