"""Load the knowledge base from its YAML files and check it as a whole.

The files live in ``backtriage/knowledge/data`` (or any folder given to `load_knowledge_base`).
Loading parses every file into the typed shapes of `backtriage.knowledge.schema`, then
`check_knowledge_base` checks what a single file cannot: that every id referred to exists,
every entry names a source, and every rule can fire. Any error stops loading with a
`KnowledgeBaseError` that lists all problems, so a broken file never reaches a patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

from backtriage.errors import KnowledgeBaseError
from backtriage.knowledge.checks import check_knowledge_base
from backtriage.knowledge.datafiles import read_data_folder, validate_many, validate_one
from backtriage.knowledge.schema import (
    Advice,
    BenignPattern,
    ChoiceQuestion,
    Condition,
    Finding,
    Manifest,
    Policy,
    RedFlagRule,
    Screen,
    Source,
)

__all__ = ["KnowledgeBase", "KB_FILES", "check_knowledge_base", "load_knowledge_base"]

#: file name -> top-level keys it must hold
KB_FILES: dict[str, tuple[str, ...]] = {
    "manifest.yaml": ("manifest",),
    "sources.yaml": ("sources",),
    "findings.yaml": ("findings",),
    "conditions.yaml": ("conditions",),
    "red_flags.yaml": ("rules", "screens", "benign_patterns"),
    "advice.yaml": ("advice",),
    "policy.yaml": ("policy",),
    "questions.yaml": ("questions",),
}


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """The whole validated knowledge base, indexed for the reasoning code."""

    manifest: Manifest
    sources: dict[str, Source]
    findings: dict[str, Finding]
    conditions: dict[str, Condition]
    rules: tuple[RedFlagRule, ...]
    screens: tuple[Screen, ...]
    advice: dict[str, Advice]
    policy: Policy
    content_hash: str
    questions: dict[str, ChoiceQuestion] = field(default_factory=dict)
    benign_patterns: tuple[BenignPattern, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def red_flag_findings(self) -> frozenset[str]:
        return frozenset(f.id for f in self.findings.values() if f.red_flag)

    @property
    def asked_findings(self) -> list[Finding]:
        """Findings a person can be asked about (not derived from age or sex)."""
        return [f for f in self.findings.values() if f.derived_from is None]


def default_data_dir() -> Path:
    return Path(str(resources.files("backtriage.knowledge") / "data"))


@lru_cache(maxsize=1)
def _default_knowledge_base() -> KnowledgeBase:
    return _load(default_data_dir())


def load_knowledge_base(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base; the shipped one is cached after the first call."""
    if path is None:
        return _default_knowledge_base()
    return _load(Path(path))


def _load(folder: Path) -> KnowledgeBase:
    data = read_data_folder(folder, {name: (keys, ()) for name, keys in KB_FILES.items()})
    raw = data.files
    problems: list[str] = []
    manifest = validate_one(Manifest, raw["manifest.yaml"]["manifest"], "manifest.yaml: manifest", problems)
    sources = validate_many(Source, raw["sources.yaml"]["sources"], "sources.yaml", "sources", problems)
    findings = validate_many(Finding, raw["findings.yaml"]["findings"], "findings.yaml", "findings", problems)
    conditions = validate_many(
        Condition, raw["conditions.yaml"]["conditions"], "conditions.yaml", "conditions", problems
    )
    rules = validate_many(RedFlagRule, raw["red_flags.yaml"]["rules"], "red_flags.yaml", "rules", problems)
    screens = validate_many(Screen, raw["red_flags.yaml"]["screens"], "red_flags.yaml", "screens", problems)
    patterns = validate_many(
        BenignPattern, raw["red_flags.yaml"]["benign_patterns"], "red_flags.yaml", "benign_patterns", problems
    )
    advice = validate_many(Advice, raw["advice.yaml"]["advice"], "advice.yaml", "advice", problems)
    policy = validate_one(Policy, raw["policy.yaml"]["policy"], "policy.yaml: policy", problems)
    questions = validate_many(
        ChoiceQuestion, raw["questions.yaml"]["questions"], "questions.yaml", "questions", problems
    )
    if problems or manifest is None or policy is None:
        raise KnowledgeBaseError(problems)

    for label, items in (
        ("sources.yaml: source", sources),
        ("findings.yaml: finding", findings),
        ("conditions.yaml: condition", conditions),
        ("red_flags.yaml: rule", rules),
        ("red_flags.yaml: screen", screens),
        ("red_flags.yaml: benign pattern", patterns),
        ("advice.yaml: advice", advice),
        ("questions.yaml: question", questions),
    ):
        problems.extend(_duplicates(label, items))
    if problems:
        raise KnowledgeBaseError(problems)

    kb = KnowledgeBase(
        manifest=manifest,
        sources={s.id: s for s in sources},
        findings={f.id: f for f in findings},
        conditions={c.id: c for c in conditions},
        rules=tuple(rules),
        screens=tuple(screens),
        advice={a.id: a for a in advice},
        policy=policy,
        content_hash=data.content_hash,
        questions={q.id: q for q in questions},
        benign_patterns=tuple(patterns),
    )
    errors, warnings = check_knowledge_base(kb)
    if errors:
        raise KnowledgeBaseError(errors)
    return replace(kb, warnings=tuple(warnings))


def _duplicates(label: str, items: Iterable[_Identified]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for item in items:
        if item.id in seen:
            dupes.append(f"{label} id '{item.id}' is defined more than once")
        seen.add(item.id)
    return dupes
