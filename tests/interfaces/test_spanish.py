"""Spanish for people: the catalogue, the terminal, the interview, the summary and its PDF, the API
and the page, each checked for English left behind.

What counts as English left behind: a word of the English messages or of the knowledge base's
English texts that no Spanish message or Spanish knowledge-base text uses ("call", "numbness",
"GP"; not "no", "diabetes" or "backtriage"). A raw id ("saddle_anaesthesia") is caught the same
way, by its English words.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from backtriage.domain.case import Case
from backtriage.domain.interview import Question, QuestionReason, WhyAsked
from backtriage.errors import InvalidInputError
from backtriage.interfaces import presentation
from backtriage.interfaces.api import create_app
from backtriage.interfaces.cli import app
from backtriage.interfaces.presentation import catalogue, languages, localise
from backtriage.interfaces.presentation.terminal import question_prompt
from backtriage.interfaces.render import render_question
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.translations import _english, translations_dir
from backtriage.reasoning.engine import Engine
from backtriage.reasoning.interview import Interviewer
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "backtriage" / "locale"
PO = LOCALE / "es" / "LC_MESSAGES" / "backtriage.po"
EXAMPLES = ["cauda-equina", "posture", "sciatica", "stenosis"]
NUMBERS = json.dumps({"es-ES": "112", "es-MX": "911", "en-GB": "999", "en-US": "911"})
_WORD = re.compile(r"[^\W\d_]{2,}")
#: A format field: %(name)s, %d, %%.
_FIELD = re.compile(r"%(?:\([a-z_]+\))?[sdgf%]")


def _words(text: str) -> set[str]:
    """The words of a text (two letters or more), leaving out its placeholders' names."""
    return {w.lower() for w in _WORD.findall(_FIELD.sub(" ", text).replace("{emergency_number}", " "))}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _texts(v)


@cache
def _catalogue() -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(message id -> its flags) of the template, (message id -> translation) of Spanish."""
    with (LOCALE / "backtriage.pot").open("rb") as f:
        template = {m.id: m.flags for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        spanish = {m.id: m for m in read_po(f, locale="es") if m.id}
    return template, spanish


@cache
def english_only() -> frozenset[str]:
    """Words of the English messages and knowledge-base texts that no Spanish one uses."""
    from backtriage.knowledge.loader import load_knowledge_base

    kb = load_knowledge_base()
    template, spanish = _catalogue()
    english = set().union(*(_words(t) for t in _texts(list(template)))) | set().union(
        *(_words(t) for t in _texts(_english(kb)))
    )
    said = set().union(*(_words(t) for m in spanish.values() for t in _texts(m.string)))
    es_kb = languages.knowledge(kb, "es")
    said |= set().union(*(_words(t) for t in _texts(_english(es_kb))))
    return frozenset(english - said)


def english_left(text: str) -> list[str]:
    return sorted(_words(text) & english_only())


def test_the_checker_catches_english() -> None:
    assert english_left("Llame al 112 ahora. Diabetes: no.") == []
    assert english_left("Llame al 112 now; saddle_anaesthesia; see a GP") == [
        "anaesthesia",
        "gp",
        "now",
        "saddle",
        "see",
    ]


# ---- the catalogue ------------------------------------------------------------------------------


def test_every_message_is_translated_with_its_placeholders() -> None:
    template, spanish = _catalogue()
    assert set(template) == set(spanish), "re-extract the .pot, then translate what is new"
    problems = []
    for mid, m in spanish.items():
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        ids = mid if isinstance(mid, tuple) else (mid,)
        if m.fuzzy or not all(strings) or len(strings) != len(ids):
            problems.append(f"not translated: {ids[0]}")
        elif any(sorted(_FIELD.findall(s)) != sorted(_FIELD.findall(ids[0])) for s in strings):
            problems.append(f"placeholders differ: {ids[0]}")
    assert problems == []


def test_the_catalogue_says_how_spanish_plurals_go() -> None:
    t = catalogue.translations("es")
    assert t.info()["plural-forms"] == "nplurals=2; plural=(n != 1);"
    more = [
        t.ngettext("and %(n)d more question", "and %(n)d more questions", n) % {"n": n} for n in (1, 2, 0)
    ]
    assert more == ["y 1 pregunta más", "y 2 preguntas más", "y 0 preguntas más"]


def test_the_shipped_po_compiles_and_every_message_comes_out_in_spanish() -> None:
    """The .po is what ships: it is compiled on first use (no .mo to fall out of step with it)."""
    assert not list(LOCALE.rglob("*.mo"))
    t = catalogue.translations("es")
    _, spanish = _catalogue()
    for mid, m in spanish.items():
        if isinstance(mid, tuple):
            assert t.ngettext(mid[0], mid[1], 2) == m.string[1]
        else:
            assert t.gettext(mid) == m.string


#: Common English words no Spanish sentence has: a rough check that nothing was left untranslated.
ENGLISH_WORDS = {
    "and", "are", "be", "for", "have", "how", "if", "in", "is", "it", "not", "of", "on", "or",
    "the", "this", "to", "what", "when", "with", "you", "your",
}  # fmt: skip


def test_no_english_is_left_in_the_spanish_words(kb: KnowledgeBase) -> None:
    _, spanish = _catalogue()
    texts = [t for m in spanish.values() for t in _texts(m.string)]
    texts += list(_texts(_english(languages.knowledge(kb, "es"))))
    assert [t for t in texts if _words(t) & ENGLISH_WORDS] == []
    same = [m.id for m in spanish.values() if m.string == m.id and len(_words(str(m.id))) > 1]
    assert same == []  # a sentence left as it was in English


# ---- the terminal --------------------------------------------------------------------------------


def _assess(*args: str, env: dict[str, str] | None = None, width: str = "80") -> Any:
    return CliRunner().invoke(app, ["assess", *args], env={"COLUMNS": width, **(env or {})})


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("explain", [False, True])
def test_the_terminal_result_is_all_in_spanish(kb: KnowledgeBase, example: str, explain: bool) -> None:
    more = ["--explain"] if explain else []
    result = _assess("--lang", "es", "--example", example, *more, width="2000" if explain else "80")
    assert result.exit_code == 0, result.output
    shown = result.stdout
    for source in kb.sources.values():  # cited as published
        shown = shown.replace(source.citation, " ")
    assert english_left(shown) == []


def test_a_cauda_equina_result_in_spain_says_to_call_112() -> None:
    result = _assess(
        "--lang", "es-ES", "--example", "cauda-equina", env={"BACKTRIAGE_EMERGENCY_NUMBERS": NUMBERS}
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "EMERGENCIA" in text and "Emergencia: llame al 112 ahora" in text
    assert "Llame al 112 ahora, o vaya al servicio de urgencias más cercano" in text
    assert "999" not in text


def test_the_language_can_come_from_the_environment() -> None:
    result = _assess("--example", "posture", env={"BACKTRIAGE_LANG": "es"})
    assert result.exit_code == 0 and "Esto se puede cuidar en casa" in result.stdout


def test_an_unknown_language_exits_2_naming_the_languages() -> None:
    result = _assess("--lang", "fr", "--example", "posture")
    assert result.exit_code == 2 and "unknown language 'fr'; choose from en, es" in result.output
    result = _assess("--example", "posture", env={"BACKTRIAGE_LANG": "klingon"})
    assert result.exit_code == 2 and "BACKTRIAGE_LANG" in result.output


def test_json_words_follow_the_language_and_the_reasoning_does_not() -> None:
    english = json.loads(_assess("--example", "sciatica", "--format", "json").stdout)
    spanish = json.loads(_assess("--example", "sciatica", "--format", "json", "--lang", "es").stdout)
    assert _reasoning(english) == _reasoning(spanish)
    assert spanish["conditions"][0]["lay_name"] == "Una hernia de disco que presiona la raíz de un nervio"


def test_a_fhir_bundle_is_for_a_record_system_and_keeps_its_words() -> None:
    english = _assess("--example", "sciatica", "--format", "fhir").stdout
    spanish = _assess("--example", "sciatica", "--format", "fhir", "--lang", "es").stdout
    made = re.compile(r'"\d{4}-\d\d-\d\dT[^"]*"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
    assert made.sub("", english) == made.sub("", spanish)  # the same but for when it was made, and ids


def test_the_summary_is_in_spanish() -> None:
    result = _assess("--lang", "es", "--example", "stenosis", "--summary")
    assert result.exit_code == 0
    assert result.stdout.startswith("Resumen de backtriage para un profesional sanitario\n")
    assert "Cribado de signos de alarma: niega" in result.stdout and "Hallazgos positivos" in result.stdout
    assert english_left(result.stdout) == []


_WORDS_KEYS = {
    "label",
    "lay_label",
    "name",
    "lay_name",
    "rationale",
    "text",
    "question",
    "disclaimer",
    "explanation",
}


def _reasoning(value: Any) -> Any:
    """A result with its words left out: ids, numbers, urgencies and reasons."""
    if isinstance(value, dict):
        return {k: _reasoning(v) for k, v in value.items() if k not in _WORDS_KEYS}
    if isinstance(value, list):
        return [_reasoning(v) for v in value]
    return value


def test_every_interview_prompt_is_in_spanish(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each question as the terminal asks it, with its options, help, why and what to type."""
    es = languages.knowledge(kb, "es")
    interviewer = Interviewer(Engine(kb))
    answers: dict[str, bool | None] = {}
    asked: list[str] = []
    with languages.speaking("es"):
        for _ in range(40):
            step = interviewer.step(Case(answers=answers), asked)
            if step.done:
                assert step.stop_reason is not None
                assert english_left(presentation.words.stopped(step.stop_reason)) == []
                break
            q = localise.question(es, step.question)  # type: ignore[arg-type]
            console = Console(file=io.StringIO(), width=80)
            reply = "no" if q.kind == "yes_no" else "1" if q.kind == "single_choice" else "0"
            monkeypatch.setattr(console, "input", lambda *a, r=reply, **k: r)
            got = render_question(console, es, q)
            prompt = question_prompt(q, presentation.words.why_asked(es, q))
            shown = console.file.getvalue() + prompt.ask + prompt.retry  # type: ignore[attr-defined]
            assert english_left(shown) == [], q.id
            answers.update(got or {o.finding: False for o in q.options if o.finding})
            if q.finding:
                answers.setdefault(q.finding, False)
            asked.append(q.id)
    assert len(asked) >= 5


def test_a_spanish_yes_is_a_yes(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    why = QuestionReason(kind=WhyAsked.WOULD_RAISE)
    q = Question(id="fever", kind="yes_no", text="¿Tiene fiebre?", finding="fever", why=why)
    for reply, value in [("sí", True), ("Si", True), ("s", True), ("no", False), ("no lo sé", None)]:
        console = Console(file=io.StringIO(), width=80)
        monkeypatch.setattr(console, "input", lambda *a, r=reply, **k: r)
        with languages.speaking("es"):
            assert render_question(console, languages.knowledge(kb, "es"), q) == {"fever": value}


def test_the_terminal_interview_asks_in_spanish(tmp_path: Path) -> None:
    replies = "\n".join(["", "0", "0"] + ["?", "0"] * 40) + "\n"  # "0" where "?" is not taken
    result = CliRunner().invoke(
        app,
        ["interview", "--lang", "es", "--database-url", f"sqlite:///{tmp_path / 'i.db'}"],
        input=replies,
        env={"COLUMNS": "100"},
    )
    assert result.exit_code == 0, result.output
    assert (
        "Describa lo que siente" in result.stdout and "¿Le está pasando ahora algo de esto?" in result.stdout
    )
    assert english_left(result.stdout.replace("backtriage interview --resume", " ")) == []


# ---- the summary as a PDF -----------------------------------------------------------------------


def test_the_summary_pdf_keeps_every_spanish_letter(kb: KnowledgeBase) -> None:
    from pypdf import PdfReader

    es = languages.knowledge(kb, "es")
    case = Case.from_mapping(json.loads((ROOT / "src/backtriage/examples/cauda-equina.json").read_text()))
    a = localise.assessment(es, Engine(kb).assess(case), "112")
    person = presentation.Person(age=52, sex="female", words="¿Me duele la espalda? ¡Sí! Año, niña, pequeño")
    with languages.speaking("es"):
        h = presentation.handover(es, a, dict(case.answers), datetime(2025, 3, 1, 9, 30, tzinfo=UTC), person)
        text = presentation.handover_text(h)
    pdf = presentation.handover_pdf(h)
    read = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    for words in (
        "Resumen de backtriage",
        "Síndrome de cola de caballo",
        "¿Me duele la espalda? ¡Sí!",
        "niña",
        "llame al 112",
    ):
        assert words in text and words in read, words
    assert "?" not in read.replace("¿Me duele la espalda?", "")  # no letter replaced by "?"
    assert english_left(text.replace(person.words or "", " ")) == []


# ---- the API ------------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    store = AuditStore(f"sqlite:///{tmp_path / 'api.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, require_api_key=False, emergency_numbers=json.loads(NUMBERS))
    with TestClient(create_app(settings, TriageService(store))) as client:
        yield client


CAUDA = {"saddle_anaesthesia": True, "bladder_dysfunction": True}


def test_the_api_words_follow_lang_and_nothing_else_does(api: TestClient) -> None:
    body = {"answers": CAUDA, "explain": True, "top": 5}
    english = api.post("/v1/assess", json=body).json()
    spanish = api.post("/v1/assess", json={**body, "lang": "es"}).json()
    mexico = api.post("/v1/assess", json={**body, "lang": "es-MX"}).json()
    assert _reasoning(english) == _reasoning(spanish)
    assert spanish["explanation"]["headline"] == "Emergencia: llame al 999 ahora"  # no region: the one number
    assert mexico["explanation"]["headline"] == "Emergencia: llame al 911 ahora"
    assert mexico["emergency_number"] == "911" and "llame al 911" in mexico["disclaimer"]
    assert "911" in mexico["advice"][0]["text"] and "Llame" in mexico["advice"][0]["text"]
    assert english_left(" ".join(_texts(spanish["explanation"]))) == []
    assert english_left(" ".join(a["text"] for a in spanish["advice"])) == []


def test_the_api_refuses_a_language_it_does_not_speak(api: TestClient) -> None:
    r = api.post("/v1/assess", json={"answers": CAUDA, "lang": "fr"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "lang"
    assert "choose from en, es" in r.json()["error"]["message"]
    assert api.post("/v1/interviews?lang=fr", json={}).status_code == 422


def test_an_interview_over_the_api_speaks_the_language_of_each_call(api: TestClient) -> None:
    started = api.post("/v1/interviews?lang=es&explain=true", json={}).json()
    question = started["question"]
    assert question["text"] == "¿Le está pasando ahora algo de esto?"
    assert question["options"][-1] == {
        "id": "none",
        "text": "Ninguna de estas",
        "finding": None,
        "value": True,
    }
    assert english_left(started["why_asked"] + started["disclaimer"]) == []
    again = api.get(f"/v1/interviews/{started['id']}").json()  # the next call asks for nothing: English
    assert again["question"]["text"] == "Is any of this happening now?"


# ---- the page -----------------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path: Path) -> Iterator[TestClient]:
    store = AuditStore(f"sqlite:///{tmp_path / 'web.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, emergency_numbers=json.loads(NUMBERS))
    client = TestClient(
        create_app(settings, TriageService(store)), headers={"accept-language": "es-ES,es;q=0.9"}
    )
    with client:
        yield client


def _post(client: TestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    if "bt_csrf" not in client.cookies:
        client.get("/")
    return client.post(path, data={**(data or {}), "csrf": client.cookies["bt_csrf"]}, **kwargs)


def _shown(page: str) -> str:
    """What a page shows and says, roughly: its text and the attributes read aloud."""
    said = re.findall(r'(?:aria-label|title|alt)="([^"]*)"', page)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(" ".join([re.sub(r"<[^>]+>", " ", text), *said]))


def test_the_page_negotiates_spanish_from_the_browser_and_says_112(page: TestClient) -> None:
    r = page.get("/")
    assert '<html lang="es">' in r.text and "¿Tiene entumecimiento u hormigueo en la espalda?" in r.text
    assert "Llame al 112 ahora si tiene" in r.text
    assert 'lang="en">English</button>' in r.text  # the switch offers the other language, named in itself
    assert english_left(_shown(r.text).replace("English", " ")) == []
    mexico = page.get("/", headers={"accept-language": "es-MX"})
    assert "Llame al 911 ahora si tiene" in mexico.text
    english = page.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Call 999 now if you have" in english.text


def test_the_switch_sets_the_language_for_the_visit(page: TestClient) -> None:
    r = _post(page, "/language", {"lang": "en", "back": "/"})
    assert '<html lang="en">' in r.text and "Call 999 now if you have" in r.text  # en: no en-GB asked: 999
    assert 'lang="es">Español</button>' in r.text
    r = _post(page, "/language", {"lang": "es", "back": "https://elsewhere.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # only back to the page itself
    assert "httponly" in r.headers["set-cookie"].lower()
    assert '<html lang="es">' in page.get("/").text


def test_a_whole_visit_in_spanish_leaves_no_english(page: TestClient, kb: KnowledgeBase) -> None:
    pages = [page.get("/").text]
    r = _post(page, "/start", {"text": ""})
    for _ in range(40):
        pages.append(r.text)
        if str(r.url).endswith("/result"):
            break
        choice = "none" if 'value="none"' in r.text else "unsure" if 'name="option"' in r.text else "no"
        r = _post(page, "/interview/answer", {"choice": choice})
    assert str(r.url).endswith("/result")
    pages += [page.get("/result?details=1").text, page.get("/summary.txt").text]
    citations = [s.citation for s in kb.sources.values()]
    for i, text in enumerate(pages):
        shown = _shown(text).replace("English", " ")
        for citation in citations:
            shown = shown.replace(citation, " ")
        assert english_left(shown) == [], (i, english_left(shown))
    assert 'lang="es"' in pages[-2]


def test_the_emergency_screen_in_spanish_dials_112(page: TestClient) -> None:
    _post(page, "/start", {"text": ""})
    r = _post(page, "/interview/answer", {"choice": "chosen", "option": ["saddle", "bladder"]})
    assert str(r.url).endswith("/result")
    assert '<h1 id="call">Llame al 112 ahora</h1>' in r.text and 'href="tel:112"' in r.text
    assert "No conduzca usted mismo" in r.text
    summary = page.get("/summary.pdf")
    assert summary.headers["content-type"] == "application/pdf" and summary.content.startswith(b"%PDF")


def test_without_a_browser_language_the_page_speaks_the_services(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'web.db'}")
    store.upgrade()
    settings = Settings(database_url=store.url, language="es-MX", emergency_numbers=json.loads(NUMBERS))
    with TestClient(create_app(settings, TriageService(store))) as client:
        r = client.get("/")
    assert '<html lang="es">' in r.text and "Llame al 911 ahora si tiene" in r.text


def test_the_spanish_words_sit_in_their_own_folders() -> None:
    assert PO.is_file() and (translations_dir() / "es" / "manifest.yaml").is_file()
    assert languages.languages() == {"en": "English", "es": "Español"}


def test_a_translation_that_no_longer_fits_leaves_its_language_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A finding added in English without its Spanish takes Spanish away, not the service."""
    from backtriage.errors import KnowledgeBaseError

    def unfit(language: str) -> Any:
        raise KnowledgeBaseError([f"findings.yaml: not translated: a_new_finding ({language})"])

    languages.languages.cache_clear()
    monkeypatch.setattr(languages, "translation", unfit)
    try:
        assert languages.languages() == {"en": "English"}
        with pytest.raises(InvalidInputError, match="choose from en"):
            languages.parse_locale("es")
    finally:
        monkeypatch.undo()
        languages.languages.cache_clear()
    assert "es" in languages.languages()


def test_a_spanish_text_is_read_and_answered_in_spanish_unless_a_language_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's own sentence: an emergency, in the language the person wrote in."""
    monkeypatch.delenv("BACKTRIAGE_LANG", raising=False)
    said = "no siento nada ahí abajo y no puedo orinar"
    runner = CliRunner(env={"COLUMNS": "100"})
    spanish = runner.invoke(app, ["assess", said])
    assert spanish.exit_code == 0, spanish.output
    assert "EMERGENCIA" in spanish.stdout.splitlines()[0] and "Por qué" in spanish.stdout
    english = runner.invoke(app, ["assess", said, "--lang", "en"])
    assert "EMERGENCY" in english.stdout.splitlines()[0] and "Por qué" not in english.stdout


def test_the_terminal_says_a_problem_the_person_can_put_right_in_their_language(tmp_path: Path) -> None:
    """A text too long, a file that is not there, nothing given: said in Spanish with --lang es
    (numbers written the Spanish way), exit code 2 and no traceback; English stays English."""
    from typer.testing import CliRunner

    from backtriage.interfaces.cli import app

    runner = CliRunner()
    long_text = "me duele la espalda " * 6_000
    said = runner.invoke(app, ["assess", "--lang", "es", "-"], input=long_text)
    assert said.exit_code == 2
    assert "el texto tiene 120.000 caracteres; el límite es 100.000" in said.output
    assert "Traceback" not in said.output
    missing = runner.invoke(app, ["assess", "--lang", "es", "--answers", str(tmp_path / "nada.json")])
    assert missing.exit_code == 2 and "no existe ese archivo" in missing.output
    nothing = runner.invoke(app, ["assess", "--lang", "es"])
    assert nothing.exit_code == 2 and "indique un TEXTO" in nothing.output
    english = runner.invoke(app, ["assess", "-"], input=long_text)
    assert english.exit_code == 2 and "the text is 120,000 characters long" in english.output
