"""The knowledge base's words in another language: every shipped language loads against the
knowledge base it translates, a broken translation is refused with every problem named, and a
knowledge base speaking another language reasons exactly as the English one."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.domain.case import Case
from backtriage.errors import KnowledgeBaseError
from backtriage.knowledge.loader import KnowledgeBase, default_data_dir
from backtriage.knowledge.translations import (
    available_languages,
    load_translation,
    localised,
    source_hash,
    translations_dir,
)
from backtriage.reasoning.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "src" / "backtriage" / "examples").glob("*.json"))


def test_spanish_is_shipped() -> None:
    assert "es" in available_languages()


@pytest.mark.parametrize("language", available_languages())
def test_each_language_translates_every_text_of_the_current_knowledge_base(
    kb: KnowledgeBase, language: str
) -> None:
    t = load_translation(language, kb)
    assert t.warnings == (), t.warnings  # the English words it was made from are today's
    assert set(t.findings) == set(kb.findings)
    assert set(t.conditions) == set(kb.conditions)
    assert set(t.rules) == {r.id for r in kb.rules}
    assert set(t.advice) == set(kb.advice)
    assert set(t.questions) == set(kb.questions)


@pytest.mark.parametrize("language", available_languages())
def test_a_knowledge_base_in_another_language_reasons_exactly_as_the_english_one(
    kb: KnowledgeBase, language: str
) -> None:
    spoken = localised(kb, load_translation(language, kb))
    assert spoken.content_hash == kb.content_hash and spoken.manifest.language == language
    cases = [Case.from_mapping(json.loads(p.read_text())) for p in EXAMPLES]
    cases += [Case(answers={f.id: True}) for f in kb.asked_findings[::7]]
    english, other = Engine(kb), Engine(spoken)
    for case in cases:
        a, b = english.assess(case), other.assess(case)
        assert _reasoning(a.model_dump()) == _reasoning(b.model_dump())
        assert a.conditions[0].lay_name != b.conditions[0].lay_name  # ... in other words


_WORDS = {"label", "lay_label", "name", "lay_name", "rationale", "text", "question"}


def _reasoning(value: Any) -> Any:
    """An assessment with its words left out: ids, numbers, urgencies and reasons."""
    if isinstance(value, dict):
        return {k: _reasoning(v) for k, v in value.items() if k not in _WORDS}
    if isinstance(value, list):
        return [_reasoning(v) for v in value]
    return value


# ---- a broken translation is refused, naming every problem -------------------------------------


@pytest.fixture
def es_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped Spanish words, in a folder of languages."""
    target = tmp_path / "i18n" / "es"
    shutil.copytree(translations_dir() / "es", target)
    return target


def _edit(folder: Path, file: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


BREAKAGES: dict[str, tuple[str, Callable[[dict[str, Any]], None], str]] = {
    "unknown id": (
        "findings.yaml",
        lambda d: d["findings"].update(no_such_finding={"label": "x" * 5, "lay_label": "x" * 5}),
        "finding 'no_such_finding': there is no finding with this id",
    ),
    "missing entry": (
        "conditions.yaml",
        lambda d: d["conditions"].pop("sepsis"),
        "conditions.yaml: not translated: sepsis",
    ),
    "missing text": (
        "findings.yaml",
        lambda d: d["findings"]["saddle_anaesthesia"].pop("help"),
        "finding 'saddle_anaesthesia': 'help' is not translated",
    ),
    "text the English lacks": (
        "findings.yaml",
        lambda d: d["findings"]["back_pain"].update(help="Una ayuda que el inglés no tiene."),
        "finding 'back_pain': 'help' is given, but the English has none",
    ),
    "unknown key": (
        "advice.yaml",
        lambda d: d["advice"]["action_urgent"].update(txt="mal escrito"),
        "advice 'action_urgent': txt: Extra inputs are not permitted",
    ),
    "placeholder lost": (
        "advice.yaml",
        lambda d: d["advice"]["action_emergency"].update(text="Llame a emergencias ahora mismo."),
        "'text' has placeholders [], the English ['emergency_number']",
    ),
    "option missing": (
        "questions.yaml",
        lambda d: d["questions"]["where"]["options"].pop("arm"),
        "question 'where': option(s) not translated: arm",
    ),
    "wrong language": (
        "manifest.yaml",
        lambda d: d["manifest"].update(language="pt"),
        "manifest.yaml: language is 'pt', its folder 'es'",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_a_broken_translation_is_refused(kb: KnowledgeBase, es_copy: Path, breakage: str) -> None:
    file, change, expected = BREAKAGES[breakage]
    _edit(es_copy, file, change)
    with pytest.raises(KnowledgeBaseError) as err:
        load_translation("es", kb, es_copy.parent)
    assert [p for p in err.value.problems if expected in p], err.value.problems


def test_every_problem_is_named_at_once(kb: KnowledgeBase, es_copy: Path) -> None:
    for file, change, _ in BREAKAGES.values():
        if file != "manifest.yaml":
            _edit(es_copy, file, change)
    with pytest.raises(KnowledgeBaseError) as err:
        load_translation("es", kb, es_copy.parent)
    named = "\n".join(err.value.problems)
    assert [e for f, _, e in BREAKAGES.values() if f != "manifest.yaml" and e not in named] == []


def test_changed_english_words_make_the_translation_out_of_date(kb: KnowledgeBase, es_copy: Path) -> None:
    _edit(es_copy, "manifest.yaml", lambda d: d["manifest"].update(source_hash="0123456789abcdef"))
    t = load_translation("es", kb, es_copy.parent)
    assert len(t.warnings) == 1 and f"source_hash: '{source_hash(kb)}'" in t.warnings[0]


def test_no_translation_for_a_language_is_an_error(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeBaseError, match="no translation of the knowledge base into 'fr'"):
        load_translation("fr", kb)


# ---- the Spanish words themselves --------------------------------------------------------------

#: Clinical words a Spanish lay label must not use (matched at the start of a word).
JARGON = (
    "abdom",
    "anestesi",
    "bilateral",
    "cervical",
    "claudica",
    "disfunci",
    "esfínter",
    "isquemi",
    "lumbar",
    "mielopat",
    "neurol",
    "parestesi",
    "perine",
    "radicul",
    "síncope",
    "torácic",
    "traumatismo",
    "unilateral",
    "urinari",
    "vesical",
)
MAX_WORDS = 14  # Spanish runs about a fifth longer than English (12)


def test_spanish_lay_labels_are_plain_statements(kb: KnowledgeBase) -> None:
    t = load_translation("es", kb)
    problems = []
    for fid, words in t.findings.items():
        text = words.lay_label
        found = [stem for stem in JARGON if re.search(rf"\b{stem}", text, re.I)]
        if found or text.endswith(".") or text[0].isupper() or len(text.split()) > MAX_WORDS:
            problems.append(f"{fid}: {text}")
    assert problems == []


def test_spanish_questions_are_asked_as_questions(kb: KnowledgeBase) -> None:
    """A question ends with "?" and opens with "¿" (after a lead-in such as "En las últimas semanas,")."""
    t = load_translation("es", kb)
    asked = [w.question for w in t.findings.values() if w.question] + [q.text for q in t.questions.values()]
    assert [q for q in asked if not q.endswith("?") or "¿" not in q] == []


def test_the_body_map_labels_are_words_of_their_options(kb: KnowledgeBase) -> None:
    """WCAG 2.5.3 in Spanish too: what the body map shows of an option is part of its name."""
    from backtriage.interfaces.presentation import languages
    from backtriage.interfaces.web import _map_labels

    options = {o.id: o.text for o in languages.knowledge(kb, "es").questions["where"].options}
    with languages.speaking("es"):
        labels = _map_labels()
    assert {o: labels[o] for o in labels if labels[o].lower() not in options[o].lower()} == {}


def test_every_translation_file_is_shipped_by_a_package_data_glob() -> None:
    """setuptools' globs do not cross folders ("knowledge/data/*.yaml" leaves out i18n/es/*.yaml),
    unlike fnmatch's, so the check is made as setuptools makes it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["backtriage"]
    package = ROOT / "src" / "backtriage"
    shipped = {p for g in globs for p in package.glob(g)}
    files = set((default_data_dir() / "i18n").rglob("*.yaml"))
    assert files and files <= shipped
