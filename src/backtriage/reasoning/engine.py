"""Put it together: case in, explained `Assessment` out."""

from __future__ import annotations

from functools import lru_cache

from backtriage.domain.assessment import AdviceItem, Assessment, ConditionResult, FindingState, Scope
from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.reasoning.differential import Differential
from backtriage.reasoning.findings import FindingStates, resolve_findings
from backtriage.reasoning.scope import ScopeOutcome, decide_scope
from backtriage.reasoning.triage import Triage, TriageOutcome
from backtriage.settings import DEFAULT_EMERGENCY_NUMBER, Settings

__all__ = ["Engine", "assess", "default_engine"]


class Engine:
    """Reasoning over one knowledge base; compile once, assess many cases."""

    def __init__(self, kb: KnowledgeBase, emergency_number: str = DEFAULT_EMERGENCY_NUMBER) -> None:
        self.kb = kb
        self.emergency_number = emergency_number
        self.differential = Differential(kb)
        self.triage = Triage(kb)
        self._labels = {fid: f.label for fid, f in kb.findings.items()}
        self._lay = {fid: f.lay_label or f.label for fid, f in kb.findings.items()}
        self._advice = {
            a.id: AdviceItem(
                id=a.id,
                kind=a.kind.value,
                text=a.text.format(emergency_number=emergency_number),
                sources=list(a.sources),
            )
            for a in kb.advice.values()
        }

    def assess(self, case: Case) -> Assessment:
        kb = self.kb
        states, derived = resolve_findings(case, kb)
        conditions = self.differential.rank(states)
        outcome = self.triage.decide(states, conditions)
        scope = decide_scope(kb, outcome.urgency, outcome.fired, conditions)
        advice = self._advice_for(outcome, scope, conditions)
        cited: dict[str, None] = {}
        for ids in (
            *(rule.sources for rule in outcome.fired),
            *(item.sources for item in advice),
            *(ev.sources for c in conditions for ev in (*c.evidence_for, *c.evidence_against)),
        ):
            cited.update(dict.fromkeys(ids))
        # Every part was built here from validated inputs, so skip re-validation (hot path).
        # Fields with a default factory are passed explicitly: pydantic inspects factories on
        # model_construct, which costs more than the validation it saves.
        return Assessment.model_construct(
            urgency=outcome.urgency,
            scope=scope.scope,
            outside_back=scope.outside,
            suspected=scope.suspected,
            emergency_number=self.emergency_number,
            urgency_reasons=outcome.reasons,
            red_flags=[r for r in outcome.fired if r.urgency >= UrgencyLevel.URGENT],
            rules_fired=outcome.fired,
            pending_red_flags=outcome.pending,
            conditions=conditions,
            findings=self._finding_states(case, states, derived),
            advice=advice,
            sources={s: kb.sources[s].citation for s in cited},
            kb_version=kb.version,
            kb_hash=kb.content_hash,
            text=None,
        )

    def _advice_for(
        self, outcome: TriageOutcome, scope: ScopeOutcome, conditions: list[ConditionResult]
    ) -> list[AdviceItem]:
        """What to do for this urgency (and scope), then what the suspected and leading causes add."""
        policy = self.kb.policy
        ids: list[str] = list(policy.urgency_advice[outcome.urgency])
        if outcome.urgency is UrgencyLevel.EMERGENCY and scope.scope is Scope.NOT_BACK:
            if policy.not_back_emergency_action is not None:
                ids[0] = policy.not_back_emergency_action
        if scope.outside:
            ids[1:1] = policy.not_back_advice
        if outcome.pending and outcome.urgency <= policy.pending_screen_urgency:
            ids.insert(1, "action_answer_screen")
        for cid in scope.suspected:
            ids.extend(self.kb.conditions[cid].advice)
        for c in conditions[: policy.advice_conditions]:
            if c.probability >= policy.advice_min_probability:
                ids.extend(self.kb.conditions[c.id].advice)
        ids.extend(policy.always_advice)
        items = [self._advice[a] for a in dict.fromkeys(ids) if a in self._advice]
        if outcome.urgency > policy.self_care_advice_up_to:
            items = [item for item in items if item.kind != "self_care"]
        return items

    def _finding_states(self, case: Case, states: FindingStates, derived: set[str]) -> list[FindingState]:
        """Every known finding, then those answered "don't know"."""
        labels, lay = self._labels, self._lay
        known = [
            FindingState.model_construct(
                id=fid,
                label=labels[fid],
                lay_label=lay[fid],
                present=value,
                origin="derived" if fid in derived else "answer",
                mentions=[],
            )
            for fid, value in sorted(states.items())
        ]
        unsure = [
            FindingState.model_construct(
                id=fid, label=labels[fid], lay_label=lay[fid], present=None, origin="answer", mentions=[]
            )
            for fid, value in sorted(case.answers.items())
            if value is None
        ]
        return known + unsure


@lru_cache(maxsize=8)
def default_engine(emergency_number: str | None = None) -> Engine:
    """The shipped knowledge base, with the emergency number given or from the settings."""
    return Engine(load_knowledge_base(), emergency_number or Settings.from_env().emergency_number)


def assess(case: Case | dict[str, object], kb: KnowledgeBase | None = None) -> Assessment:
    """Assess one case against the shipped knowledge base (or ``kb``).

    ``case`` may be a `Case` or a mapping in either accepted JSON shape.
    """
    if not isinstance(case, Case):
        case = Case.from_mapping(case)
    engine = default_engine() if kb is None else Engine(kb)
    return engine.assess(case)
