"""Put it together: case in, explained `Assessment` out."""

from __future__ import annotations

from functools import lru_cache

from backtriage.domain.assessment import AdviceItem, Assessment, FindingState
from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.reasoning.differential import Differential
from backtriage.reasoning.findings import resolve_findings
from backtriage.reasoning.triage import Triage

__all__ = ["Engine", "assess", "default_engine"]

#: How many leading causes contribute their own advice.
_ADVICE_CONDITIONS = 2
#: A leading cause must be at least this likely to add its advice.
_ADVICE_MIN_PROBABILITY = 0.10


class Engine:
    """Reasoning over one knowledge base; compile once, assess many cases."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.differential = Differential(kb)
        self.triage = Triage(kb)
        self._advice = {
            a.id: AdviceItem(
                id=a.id,
                kind=a.kind.value,
                text=a.text,
                sources=list(a.sources),
            )
            for a in kb.advice.values()
        }

    def assess(self, case: Case) -> Assessment:
        kb = self.kb
        states, derived = resolve_findings(case, kb)
        conditions = self.differential.rank(states)
        outcome = self.triage.decide(states, conditions)

        advice_ids: list[str] = list(kb.policy.urgency_advice[outcome.urgency])
        if outcome.pending and outcome.urgency <= kb.policy.pending_screen_urgency:
            advice_ids.insert(1, "action_answer_screen")
        for rule in outcome.fired:
            for cid in rule.suggests[:1]:
                advice_ids.extend(kb.conditions[cid].advice)
        for c in conditions[:_ADVICE_CONDITIONS]:
            if c.probability >= _ADVICE_MIN_PROBABILITY:
                advice_ids.extend(kb.conditions[c.id].advice)
        advice_ids.extend(kb.policy.always_advice)
        advice = [self._advice[a] for a in dict.fromkeys(advice_ids) if a in self._advice]

        findings = [
            FindingState.model_construct(
                id=fid,
                label=kb.findings[fid].label,
                present=value,
                origin="derived" if fid in derived else "answer",
                mentions=[],
            )
            for fid, value in sorted(states.items())
        ]
        findings.extend(
            FindingState.model_construct(
                id=fid, label=kb.findings[fid].label, present=None, origin="answer", mentions=[]
            )
            for fid, value in sorted(case.answers.items())
            if value is None
        )
        cited: dict[str, None] = {}
        for rule in outcome.fired:
            cited.update(dict.fromkeys(rule.sources))
        for item in advice:
            cited.update(dict.fromkeys(item.sources))
        for c in conditions:
            for ev in (*c.evidence_for, *c.evidence_against):
                cited.update(dict.fromkeys(ev.sources))
        # Every part was built here from validated inputs, so skip re-validation (hot path).
        # Fields with a default factory are passed explicitly: pydantic inspects factories on
        # model_construct, which costs more than the validation it saves.
        return Assessment.model_construct(
            urgency=outcome.urgency,
            urgency_label=outcome.urgency.label,
            urgency_reasons=outcome.reasons,
            red_flags=[r for r in outcome.fired if r.urgency >= UrgencyLevel.URGENT],
            rules_fired=outcome.fired,
            pending_red_flags=outcome.pending,
            conditions=conditions,
            findings=findings,
            advice=advice,
            sources={s: kb.sources[s].citation for s in cited},
            kb_version=kb.version,
            kb_hash=kb.content_hash,
        )


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    return Engine(load_knowledge_base())


def assess(case: Case | dict[str, object], kb: KnowledgeBase | None = None) -> Assessment:
    """Assess one case against the shipped knowledge base (or ``kb``).

    ``case`` may be a `Case` or a mapping in either accepted JSON shape.
    """
    if not isinstance(case, Case):
        case = Case.from_mapping(case)
    engine = default_engine() if kb is None else Engine(kb)
    return engine.assess(case)
