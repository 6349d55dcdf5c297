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

from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import KnowledgeBaseError
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


def check_knowledge_base(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """Cross-file checks. Returns (errors, warnings); errors make the knowledge base unusable."""
    errors: list[str] = []
    warnings: list[str] = []
    findings, conditions, sources, advice = kb.findings, kb.conditions, kb.sources, kb.advice

    def need_sources(where: str, ids: list[str]) -> None:
        if not ids:
            errors.append(f"{where}: names no source")
        for s in ids:
            if s not in sources:
                errors.append(f"{where}: unknown source '{s}'")

    def need_finding(where: str, fid: str) -> None:
        if fid not in findings:
            errors.append(f"{where}: unknown finding '{fid}'")

    used: set[str] = set()

    for f in findings.values():
        if f.red_flag:
            need_sources(f"findings.yaml: red-flag finding '{f.id}'", f.sources)
        else:
            for sid in f.sources:
                if sid not in sources:
                    errors.append(f"findings.yaml: finding '{f.id}': unknown source '{sid}'")

    prior_total = 0.0
    for c in conditions.values():
        where = f"conditions.yaml: condition '{c.id}'"
        prior_total += c.prior
        need_sources(f"{where} prior", c.prior_sources)
        need_sources(f"{where} base urgency", c.urgency_sources)
        for aid in c.advice:
            if aid not in advice:
                errors.append(f"{where}: unknown advice '{aid}'")
        seen_ev: set[str] = set()
        for ev in c.evidence:
            ev_where = f"{where} evidence '{ev.finding}'"
            need_finding(ev_where, ev.finding)
            used.add(ev.finding)
            if ev.finding in seen_ev:
                errors.append(f"{ev_where}: listed more than once")
            seen_ev.add(ev.finding)
            if not ev.sources and not ev.estimate:
                errors.append(f"{ev_where}: names no source and is not marked as an estimate")
            for sid in ev.sources:
                if sid not in sources:
                    errors.append(f"{ev_where}: unknown source '{sid}'")
            if ev.estimate and not any(
                sources[sid].kind == "estimate" for sid in ev.sources if sid in sources
            ):
                warnings.append(f"{ev_where}: marked as an estimate but cites no estimate source")
        for level, fids in c.levels.items():
            for fid in fids:
                need_finding(f"{where} level {level}", fid)
    if prior_total > 1.0 + 1e-9:
        errors.append(f"conditions.yaml: priors add up to {prior_total:.3f}, more than 1")

    red_flags = kb.red_flag_findings
    standalone: dict[str, UrgencyLevel] = {}
    for r in kb.rules:
        where = f"red_flags.yaml: rule '{r.id}'"
        need_sources(where, r.sources)
        for fid in [*r.all_of, *r.any_of, *r.none_of]:
            need_finding(where, fid)
            used.add(fid)
        for cid in r.suggests:
            if cid not in conditions:
                errors.append(f"{where}: suggests unknown condition '{cid}'")
        errors.extend(f"{where}: {p}" for p in _unreachable(r, kb))
        for fid in r.none_of:
            if fid in red_flags:
                errors.append(
                    f"{where}: red-flag finding '{fid}' in 'none' would let a red flag lower the urgency"
                )
        if len(r.all_of) == 1 and not r.any_of and not r.none_of:
            fid = r.all_of[0]
            standalone[fid] = max(standalone.get(fid, UrgencyLevel.SELF_CARE), r.urgency)
        if not r.all_of and not r.none_of:
            for fid in r.any_of:
                standalone[fid] = max(standalone.get(fid, UrgencyLevel.SELF_CARE), r.urgency)
    for fid in sorted(red_flags):
        if standalone.get(fid, UrgencyLevel.SELF_CARE) < UrgencyLevel.URGENT:
            errors.append(
                f"findings.yaml: red-flag finding '{fid}' has no rule of its own that makes "
                "the urgency at least 'urgent' when it is present"
            )

    for s in kb.screens:
        where = f"red_flags.yaml: screen '{s.id}'"
        need_sources(where, s.sources)
        for fid in [*s.applies_if_any, *s.questions]:
            need_finding(where, fid)
            used.add(fid)
        for fid in s.questions:
            if fid in findings and findings[fid].derived_from is not None:
                errors.append(f"{where}: '{fid}' is derived from demographics, not a question")
    if not any(not s.applies_if_any for s in kb.screens):
        errors.append("red_flags.yaml: no screen applies always; self-care would need no screen")
    else:
        core = set().union(*(s.questions for s in kb.screens if not s.applies_if_any))
        for fid in ("saddle_anaesthesia", "bladder_dysfunction", "bowel_dysfunction"):
            if fid not in core:
                errors.append(f"red_flags.yaml: the always-on screen must ask '{fid}'")

    for a in advice.values():
        need_sources(f"advice.yaml: advice '{a.id}'", a.sources)
    for q in kb.questions.values():
        where = f"questions.yaml: question '{q.id}'"
        need_sources(where, q.sources)
        seen_options: set[str] = set()
        for o in q.options:
            if o.id in seen_options:
                errors.append(f"{where}: option '{o.id}' is listed twice")
            seen_options.add(o.id)
            if o.finding is None:
                continue
            need_finding(f"{where} option '{o.id}'", o.finding)
            used.add(o.finding)
            answered = findings.get(o.finding)
            if answered is not None and answered.derived_from is not None:
                errors.append(f"{where} option '{o.id}': '{o.finding}' is derived, not asked")
            if answered is not None and answered.red_flag and (not o.value or q.unchosen_means_no):
                errors.append(f"{where} option '{o.id}': a choice may not answer red flag '{o.finding}' no")
    pol = kb.policy
    need_sources("policy.yaml: policy", pol.sources)
    for level in UrgencyLevel:
        if level not in pol.urgency_advice:
            errors.append(f"policy.yaml: urgency_advice has nothing for '{level}'")
    for aid in [*pol.always_advice, *(a for ids in pol.urgency_advice.values() for a in ids)]:
        if aid not in advice:
            errors.append(f"policy.yaml: unknown advice '{aid}'")
    if pol.differential_urgency_cap >= UrgencyLevel.EMERGENCY:
        errors.append(
            "policy.yaml: differential_urgency_cap must be below 'emergency': emergencies are "
            "decided by rules alone"
        )
    if pol.pending_screen_urgency <= UrgencyLevel.SELF_CARE:
        errors.append("policy.yaml: pending_screen_urgency must be above 'self_care'")

    errors.extend(_check_scope_and_patterns(kb, used))
    errors.extend(_check_policy_advice(kb))
    for f in findings.values():
        if f.id not in used and f.derived_from is None:
            warnings.append(f"findings.yaml: finding '{f.id}' is used by no condition or rule")
    return errors, warnings


def _check_scope_and_patterns(kb: KnowledgeBase, used: set[str]) -> list[str]:
    """Exclusions, defining findings and harmless patterns name real findings, and none of them
    can answer or stand in for a red flag."""
    errors = []
    for f in kb.findings.values():
        for fid in f.excludes:
            if fid not in kb.findings:
                errors.append(f"findings.yaml: finding '{f.id}' excludes unknown finding '{fid}'")
            elif fid in kb.red_flag_findings:
                errors.append(f"findings.yaml: finding '{f.id}' may not rule out red flag '{fid}'")
    for c in kb.conditions.values():
        for fid in c.defining:
            if fid not in kb.findings:
                errors.append(f"conditions.yaml: condition '{c.id}' defining: unknown finding '{fid}'")
    if not kb.benign_patterns:
        errors.append("red_flags.yaml: no benign pattern; self-care could never be advised")
    for bp in kb.benign_patterns:
        where = f"red_flags.yaml: benign pattern '{bp.id}'"
        errors.extend(f"{where}: unknown source '{s}'" for s in bp.sources if s not in kb.sources)
        for fid in [*bp.all_of, *bp.denied, *bp.asked]:
            if fid not in kb.findings:
                errors.append(f"{where}: unknown finding '{fid}'")
            used.add(fid)
        errors.extend(
            f"{where}: red-flag finding '{fid}' cannot be part of a harmless pattern"
            for fid in bp.all_of
            if fid in kb.red_flag_findings
        )
    return errors


def _check_policy_advice(kb: KnowledgeBase) -> list[str]:
    pol = kb.policy
    return [f"policy.yaml: unknown advice '{aid}'" for aid in pol.not_back_advice if aid not in kb.advice] + (
        ["policy.yaml: unconfirmed_benign_urgency must be above 'self_care'"]
        if pol.unconfirmed_benign_urgency <= UrgencyLevel.SELF_CARE
        else []
    )


def _unreachable(rule: RedFlagRule, kb: KnowledgeBase) -> list[str]:
    """Reasons why a rule can never fire."""
    problems = []
    must = set(rule.all_of)
    clash = must & set(rule.none_of)
    if clash:
        problems.append(f"never fires: {', '.join(sorted(clash))} both required and excluded")
    if rule.any_of and set(rule.any_of) <= set(rule.none_of):
        problems.append("never fires: every 'any' finding is also excluded")
    derived = [kb.findings[f] for f in must if f in kb.findings and kb.findings[f].derived_from]
    lo, hi, sexes = 0, 10_000, set()
    for f in derived:
        d = f.derived_from
        assert d is not None
        if d.field == "age":
            lo = max(lo, d.min if d.min is not None else 0)
            hi = min(hi, d.max if d.max is not None else 10_000)
        else:
            sexes.add(d.equals)
    if lo > hi:
        problems.append("never fires: its age conditions cannot all hold")
    if len(sexes) > 1:
        problems.append("never fires: it requires both sexes")
    return problems
