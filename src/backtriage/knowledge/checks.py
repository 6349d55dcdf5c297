"""Cross-file checks of a loaded knowledge base: what a single file's schema cannot see.

Every id referred to exists, every entry names a source, every rule can fire, and the safety
invariants hold (a red flag can never lower the urgency; self-care needs a screen and a harmless
pattern). Errors make the knowledge base unusable; warnings are shown by `backtriage kb check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.schema import Condition, RedFlagRule

if TYPE_CHECKING:
    from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["check_knowledge_base"]


def check_knowledge_base(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """Cross-file checks. Returns (errors, warnings); errors make the knowledge base unusable."""
    checks = _Checks(kb)
    checks.findings()
    checks.conditions()
    checks.rules()
    checks.screens()
    checks.questions()
    checks.policy()
    checks.patterns()
    for f in kb.findings.values():
        if f.id not in checks.used and f.derived_from is None:
            checks.warnings.append(f"findings.yaml: finding '{f.id}' is used by no condition or rule")
    return checks.errors, checks.warnings


class _Checks:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.used: set[str] = set()

    def _sources(self, where: str, ids: list[str], required: bool = True) -> None:
        if required and not ids:
            self.errors.append(f"{where}: names no source")
        self.errors.extend(f"{where}: unknown source '{s}'" for s in ids if s not in self.kb.sources)

    def _finding(self, where: str, fid: str) -> None:
        self.used.add(fid)
        if fid not in self.kb.findings:
            self.errors.append(f"{where}: unknown finding '{fid}'")

    def findings(self) -> None:
        for f in self.kb.findings.values():
            where = f"findings.yaml: {'red-flag ' if f.red_flag else ''}finding '{f.id}'"
            self._sources(where, f.sources, required=f.red_flag)
            for fid in f.excludes:
                if fid not in self.kb.findings:
                    self.errors.append(f"findings.yaml: finding '{f.id}' excludes unknown finding '{fid}'")
                elif fid in self.kb.red_flag_findings:
                    self.errors.append(f"findings.yaml: finding '{f.id}' may not rule out red flag '{fid}'")

    def conditions(self) -> None:
        prior_total = 0.0
        for c in self.kb.conditions.values():
            where = f"conditions.yaml: condition '{c.id}'"
            prior_total += c.prior
            self._sources(f"{where} prior", c.prior_sources)
            self._sources(f"{where} base urgency", c.urgency_sources)
            self.errors.extend(f"{where}: unknown advice '{a}'" for a in c.advice if a not in self.kb.advice)
            self._evidence(where, c)
            for level, fids in c.levels.items():
                for fid in fids:
                    self._finding(f"{where} level {level}", fid)
            for fid in c.defining:
                self._finding(f"{where} defining", fid)
        if prior_total > 1.0 + 1e-9:
            self.errors.append(f"conditions.yaml: priors add up to {prior_total:.3f}, more than 1")

    def _evidence(self, where: str, c: Condition) -> None:
        seen: set[str] = set()
        for ev in c.evidence:
            ev_where = f"{where} evidence '{ev.finding}'"
            self._finding(ev_where, ev.finding)
            if ev.finding in seen:
                self.errors.append(f"{ev_where}: listed more than once")
            seen.add(ev.finding)
            if not ev.sources and not ev.estimate:
                self.errors.append(f"{ev_where}: names no source and is not marked as an estimate")
            self._sources(ev_where, ev.sources, required=False)
            kinds = {self.kb.sources[s].kind for s in ev.sources if s in self.kb.sources}
            if ev.estimate and "estimate" not in kinds:
                self.warnings.append(f"{ev_where}: marked as an estimate but cites no estimate source")

    def rules(self) -> None:
        red_flags = self.kb.red_flag_findings
        standalone: dict[str, UrgencyLevel] = {}
        for r in self.kb.rules:
            where = f"red_flags.yaml: rule '{r.id}'"
            self._sources(where, r.sources)
            for fid in [*r.all_of, *r.any_of, *r.none_of]:
                self._finding(where, fid)
            self.errors.extend(
                f"{where}: suggests unknown condition '{cid}'"
                for cid in r.suggests
                if cid not in self.kb.conditions
            )
            self.errors.extend(f"{where}: {p}" for p in _unreachable(r, self.kb))
            self.errors.extend(
                f"{where}: red-flag finding '{fid}' in 'none' would let a red flag lower the urgency"
                for fid in r.none_of
                if fid in red_flags
            )
            alone = r.all_of if len(r.all_of) == 1 and not r.any_of else r.any_of if not r.all_of else []
            for fid in alone if not r.none_of else []:
                standalone[fid] = max(standalone.get(fid, UrgencyLevel.SELF_CARE), r.urgency)
        for fid in sorted(red_flags):
            if standalone.get(fid, UrgencyLevel.SELF_CARE) < UrgencyLevel.URGENT:
                self.errors.append(
                    f"findings.yaml: red-flag finding '{fid}' has no rule of its own that makes "
                    "the urgency at least 'urgent' when it is present"
                )

    def _screen_policy(self) -> None:
        """Every rule the note screen alerts on exists and is a red flag; no rule is listed twice."""
        screen = self.kb.policy.screen
        where = "policy.yaml: screen"
        self._sources(where, screen.sources)
        rules = {r.id: r for r in self.kb.rules}
        listed = [*screen.alert_anywhere, *screen.alert_in_topic]
        for rid in listed:
            if rid not in rules:
                self.errors.append(f"{where}: unknown rule '{rid}'")
            elif rules[rid].urgency < UrgencyLevel.URGENT:
                self.errors.append(f"{where}: rule '{rid}' is not urgent, so no alert can rest on it")
        self.errors.extend(
            f"{where}: rule '{r}' is listed twice" for r in sorted(set(listed)) if listed.count(r) > 1
        )
        for fid in screen.topic_findings:
            self._finding(f"{where}: topic_findings", fid)

    def screens(self) -> None:
        findings = self.kb.findings
        for s in self.kb.screens:
            where = f"red_flags.yaml: screen '{s.id}'"
            self._sources(where, s.sources)
            for fid in [*s.applies_if_any, *s.questions]:
                self._finding(where, fid)
            self.errors.extend(
                f"{where}: '{fid}' is derived from demographics, not a question"
                for fid in s.questions
                if fid in findings and findings[fid].derived_from is not None
            )
        always = [s for s in self.kb.screens if not s.applies_if_any]
        if not always:
            self.errors.append("red_flags.yaml: no screen applies always; self-care would need no screen")
            return
        core = set().union(*(s.questions for s in always))
        for fid in ("saddle_anaesthesia", "bladder_dysfunction", "bowel_dysfunction"):
            if fid not in core:
                self.errors.append(f"red_flags.yaml: the always-on screen must ask '{fid}'")

    def questions(self) -> None:
        for a in self.kb.advice.values():
            self._sources(f"advice.yaml: advice '{a.id}'", a.sources)
        for q in self.kb.questions.values():
            where = f"questions.yaml: question '{q.id}'"
            self._sources(where, q.sources)
            seen: set[str] = set()
            for o in q.options:
                if o.id in seen:
                    self.errors.append(f"{where}: option '{o.id}' is listed twice")
                seen.add(o.id)
                if o.finding is None:
                    continue
                self._finding(f"{where} option '{o.id}'", o.finding)
                answered = self.kb.findings.get(o.finding)
                if answered is not None and answered.derived_from is not None:
                    self.errors.append(f"{where} option '{o.id}': '{o.finding}' is derived, not asked")
                if answered is not None and answered.red_flag and (not o.value or q.unchosen_means_no):
                    self.errors.append(
                        f"{where} option '{o.id}': a choice may not answer red flag '{o.finding}' no"
                    )

    def policy(self) -> None:
        pol = self.kb.policy
        self._sources("policy.yaml: policy", pol.sources)
        self._screen_policy()
        for level in UrgencyLevel:
            if level not in pol.urgency_advice:
                self.errors.append(f"policy.yaml: urgency_advice has nothing for '{level}'")
        named = [
            *pol.always_advice,
            *pol.not_back_advice,
            *([pol.not_back_emergency_action] if pol.not_back_emergency_action else []),
            *(a for ids in pol.urgency_advice.values() for a in ids),
        ]
        self.errors.extend(
            f"policy.yaml: unknown advice '{aid}'" for aid in named if aid not in self.kb.advice
        )
        if pol.differential_urgency_cap >= UrgencyLevel.EMERGENCY:
            self.errors.append(
                "policy.yaml: differential_urgency_cap must be below 'emergency': emergencies are "
                "decided by rules alone"
            )
        for fid in (pol.long_standing_finding, *pol.changing_findings):
            self._finding("policy.yaml", fid)
        for name in ("pending_screen_urgency", "unconfirmed_benign_urgency"):
            if getattr(pol, name) <= UrgencyLevel.SELF_CARE:
                self.errors.append(f"policy.yaml: {name} must be above 'self_care'")

    def patterns(self) -> None:
        """Harmless patterns name real findings and never rest on a red flag."""
        if not self.kb.benign_patterns:
            self.errors.append("red_flags.yaml: no benign pattern; self-care could never be advised")
        for bp in self.kb.benign_patterns:
            where = f"red_flags.yaml: benign pattern '{bp.id}'"
            self._sources(where, bp.sources)
            for fid in [*bp.all_of, *bp.denied, *bp.asked]:
                self._finding(where, fid)
            self.errors.extend(
                f"{where}: red-flag finding '{fid}' cannot be part of a harmless pattern"
                for fid in bp.all_of
                if fid in self.kb.red_flag_findings
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
