"""The knowledge base's words in another language: a folder of data per language.

The knowledge base is written in English. What it says to people (a finding's label, lay label,
question and help; a cause's name and lay name; a red-flag rule's name and rationale; advice; a
choice question's text, help and options) can be given in another language in
``knowledge/data/i18n/<language>/``, one file per knowledge-base file, each entry keyed by the id
it translates::

    findings:
      saddle_anaesthesia:
        label: Anestesia en silla de montar
        lay_label: entumecimiento entre las piernas o alrededor del ano
        question: ...

Reading checks the folder against the knowledge base and collects every problem before failing
with one `KnowledgeBaseError`: an unknown id or key, a text missing (every text the English has
must be translated, and nothing the English lacks may be added), an advice placeholder that
differs. Only words are translated: ids, numbers and rules stay the knowledge base's, so
`localised` gives a knowledge base that reasons exactly as the English one (the same content hash)
and speaks the other language.

A translation is versioned data too: its manifest gives its own version, and `source_hash`, the
hash of the English words it was made from. When the English words change, the translation is
out of date: reading it then gives a warning (and the shipped translations' test fails) until a
translator has checked it and put the new hash in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backtriage.errors import KnowledgeBaseError
from backtriage.knowledge.datafiles import read_data_folder, validate_one
from backtriage.knowledge.loader import KnowledgeBase, default_data_dir

__all__ = [
    "TRANSLATION_FILES",
    "Translation",
    "available_languages",
    "load_translation",
    "localised",
    "source_hash",
    "translations_dir",
]

#: file name -> top-level keys it must hold
TRANSLATION_FILES: dict[str, tuple[str, ...]] = {
    "manifest.yaml": ("manifest",),
    "findings.yaml": ("findings",),
    "conditions.yaml": ("conditions",),
    "red_flags.yaml": ("rules",),
    "advice.yaml": ("advice",),
    "questions.yaml": ("questions",),
}
_LANGUAGE = r"^[a-z]{2,3}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TranslationManifest(_Strict):
    language: str = Field(pattern=_LANGUAGE, description="The language's code (ISO 639-1), e.g. 'es'.")
    name: str = Field(min_length=2, description="The language's name in itself, for a language switch.")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$", description="The translation's own version.")
    kb_version: str = Field(pattern=r"^\d+\.\d+\.\d+$", description="The knowledge base it was made for.")
    source_hash: str = Field(
        pattern=r"^[0-9a-f]{16}$", description="`source_hash` of the English words it translates."
    )


class FindingWords(_Strict):
    label: str = Field(min_length=2)
    lay_label: str = Field(min_length=2)
    question: str | None = Field(default=None, min_length=2)
    help: str | None = Field(default=None, min_length=2)


class ConditionWords(_Strict):
    name: str = Field(min_length=2)
    lay_name: str = Field(min_length=2)


class RuleWords(_Strict):
    name: str = Field(min_length=2)
    rationale: str = Field(min_length=10)


class AdviceWords(_Strict):
    text: str = Field(min_length=10)


class QuestionWords(_Strict):
    text: str = Field(min_length=2)
    help: str | None = Field(default=None, min_length=2)
    options: dict[str, str] = Field(description="Option id -> its text.")


@dataclass(frozen=True)
class Translation:
    """One language's words for the knowledge base, checked against it."""

    language: str
    name: str
    version: str
    content_hash: str
    findings: dict[str, FindingWords]
    conditions: dict[str, ConditionWords]
    rules: dict[str, RuleWords]
    advice: dict[str, AdviceWords]
    questions: dict[str, QuestionWords]
    warnings: tuple[str, ...] = field(default=())


def translations_dir(kb_folder: Path | None = None) -> Path:
    """Where the languages of a knowledge-base folder are (the shipped one's by default)."""
    return (kb_folder or default_data_dir()) / "i18n"


def available_languages(folder: Path | None = None) -> tuple[str, ...]:
    """The languages with a folder of translations, sorted (English, the source, is not one)."""
    where = folder or translations_dir()
    if not where.is_dir():
        return ()
    return tuple(sorted(p.name for p in where.iterdir() if (p / "manifest.yaml").is_file()))


def _english(kb: KnowledgeBase) -> dict[str, dict[str, dict[str, Any]]]:
    """The English words a translation must give, in the translation's own shape (None: absent)."""
    return {
        "findings": {
            f.id: {"label": f.label, "lay_label": f.lay_label, "question": f.question, "help": f.help}
            for f in kb.findings.values()
        },
        "conditions": {c.id: {"name": c.name, "lay_name": c.lay_name} for c in kb.conditions.values()},
        "rules": {r.id: {"name": r.name, "rationale": r.rationale} for r in kb.rules},
        "advice": {a.id: {"text": a.text} for a in kb.advice.values()},
        "questions": {
            q.id: {"text": q.text, "help": q.help, "options": {o.id: o.text for o in q.options}}
            for q in kb.questions.values()
        },
    }


def source_hash(kb: KnowledgeBase) -> str:
    """A hash of the English words a translation translates: it changes when any of them does."""
    data = json.dumps(_english(kb), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()[:16]


_SECTIONS: dict[str, tuple[str, str, type[_Strict]]] = {
    # section -> (file, what an entry is, its typed shape)
    "findings": ("findings.yaml", "finding", FindingWords),
    "conditions": ("conditions.yaml", "condition", ConditionWords),
    "rules": ("red_flags.yaml", "rule", RuleWords),
    "advice": ("advice.yaml", "advice", AdviceWords),
    "questions": ("questions.yaml", "question", QuestionWords),
}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _check_entry(where: str, english: dict[str, Any], words: BaseModel, problems: list[str]) -> None:
    """Every text the English has is translated, nothing it lacks is added, and advice keeps its
    placeholders."""
    given = words.model_dump()
    for key, source in english.items():
        if key == "options":
            options: dict[str, str] = given["options"]
            missing = sorted(set(source) - set(options))
            unknown = sorted(set(options) - set(source))
            if missing:
                problems.append(f"{where}: option(s) not translated: {', '.join(missing)}")
            if unknown:
                problems.append(f"{where}: unknown option id(s): {', '.join(unknown)}")
            continue
        if source is not None and given.get(key) is None:
            problems.append(f"{where}: '{key}' is not translated")
        elif source is None and given.get(key) is not None:
            problems.append(f"{where}: '{key}' is given, but the English has none")
        elif source is not None and _placeholders(source) != _placeholders(given[key]):
            problems.append(
                f"{where}: '{key}' has placeholders {sorted(_placeholders(given[key]))}, "
                f"the English {sorted(_placeholders(source))}"
            )


def load_translation(language: str, kb: KnowledgeBase, folder: Path | None = None) -> Translation:
    """Read and check one language's words for `kb` (from the shipped folder unless `folder`, the
    folder holding the language folders, is given)."""
    where = (folder or translations_dir()) / language
    if not where.is_dir():
        raise KnowledgeBaseError([f"no translation of the knowledge base into '{language}'"])
    data = read_data_folder(where, {name: (keys, ()) for name, keys in TRANSLATION_FILES.items()})
    raw = data.files
    problems: list[str] = []
    manifest = validate_one(
        TranslationManifest, raw["manifest.yaml"]["manifest"], "manifest.yaml: manifest", problems
    )
    if manifest is not None and manifest.language != language:
        problems.append(f"manifest.yaml: language is '{manifest.language}', its folder '{language}'")
    english = _english(kb)
    sections: dict[str, dict[str, Any]] = {}
    for section, (file, what, model) in _SECTIONS.items():
        entries = raw[file][section]
        if not isinstance(entries, dict):
            problems.append(f"{file}: '{section}' must be a mapping of id -> words")
            continue
        parsed: dict[str, Any] = {}
        for ident, value in entries.items():
            label = f"{file}: {what} '{ident}'"
            if ident not in english[section]:
                problems.append(f"{label}: there is no {what} with this id")
                continue
            words = validate_one(model, value, label, problems)
            if words is not None:
                _check_entry(label, english[section][ident], words, problems)
                parsed[ident] = words
        missing = [i for i in english[section] if i not in entries]
        if missing:
            problems.append(f"{file}: not translated: {', '.join(missing)}")
        sections[section] = parsed
    if problems or manifest is None:
        raise KnowledgeBaseError(problems)
    warnings = []
    if manifest.source_hash != (now := source_hash(kb)):
        warnings.append(
            f"i18n/{language}: the English words have changed since this translation was made "
            f"(source_hash {manifest.source_hash}, now {now}); check the translation, then set "
            f"source_hash: '{now}'"
        )
    return Translation(
        language=language,
        name=manifest.name,
        version=manifest.version,
        content_hash=data.content_hash,
        warnings=tuple(warnings),
        **sections,
    )


def localised(kb: KnowledgeBase, t: Translation) -> KnowledgeBase:
    """`kb` speaking `t`'s language: every translated text swapped, everything else (ids, numbers,
    rules, the content hash) the same, so it reasons exactly as `kb` does."""
    findings = {
        fid: f.model_copy(update=t.findings[fid].model_dump(exclude_none=True))
        for fid, f in kb.findings.items()
    }
    conditions = {
        cid: c.model_copy(update=t.conditions[cid].model_dump()) for cid, c in kb.conditions.items()
    }
    rules = tuple(r.model_copy(update=t.rules[r.id].model_dump()) for r in kb.rules)
    advice = {aid: a.model_copy(update={"text": t.advice[aid].text}) for aid, a in kb.advice.items()}
    questions = {}
    for qid, q in kb.questions.items():
        words = t.questions[qid]
        options = [o.model_copy(update={"text": words.options[o.id]}) for o in q.options]
        questions[qid] = q.model_copy(update={"text": words.text, "help": words.help, "options": options})
    return replace(
        kb,
        manifest=kb.manifest.model_copy(update={"language": t.language}),
        findings=findings,
        conditions=conditions,
        rules=rules,
        advice=advice,
        questions=questions,
    )
