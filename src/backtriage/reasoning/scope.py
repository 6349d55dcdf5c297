"""Is this a back problem at all? The result's scope, and the causes the red flags point to.

People describe their body, not our scope: a stroke, a heart attack or a torn aorta can arrive
as "my arm and back went numb". When the rules that decide the urgency point only to causes
outside the back (``scope: not_back`` in conditions.yaml) the scope is ``not_back``; when some
do, or such a cause is at least ``not_back_probability`` likely, it is ``possibly_not_back``.
"""

from __future__ import annotations

from dataclasses import dataclass

from backtriage.domain.assessment import ConditionResult, FiredRule, Scope
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["ScopeOutcome", "decide_scope"]


@dataclass(frozen=True)
class ScopeOutcome:
    scope: Scope
    suspected: list[str]
    outside: list[str]  # causes outside the back to rule out, when the scope is not "back"


def decide_scope(
    kb: KnowledgeBase, urgency: UrgencyLevel, fired: list[FiredRule], conditions: list[ConditionResult]
) -> ScopeOutcome:
    rank = {c.id: i for i, c in enumerate(conditions)}
    serious = [r for r in fired if r.urgency >= UrgencyLevel.URGENT]
    # Each rule's suggestion that the differential ranks highest is what it suspects.
    pointed = [(r, min(r.suggests, key=rank.__getitem__)) for r in serious if r.suggests]
    suspected = list(dict.fromkeys(cid for _, cid in pointed))
    deciding = {cid for r, cid in pointed if r.urgency == urgency}
    outside = [cid for cid in suspected if kb.conditions[cid].scope == "not_back"]
    likely_outside = [
        c.id for c in conditions if c.scope == "not_back" and c.probability >= kb.policy.not_back_probability
    ]
    if deciding and all(kb.conditions[cid].scope == "not_back" for cid in deciding):
        scope = Scope.NOT_BACK
    elif outside or likely_outside:
        scope = Scope.POSSIBLY_NOT_BACK
    else:
        return ScopeOutcome(Scope.BACK, suspected, [])
    return ScopeOutcome(scope, suspected, list(dict.fromkeys([*outside, *likely_outside])))
