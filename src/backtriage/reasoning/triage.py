"""Decide the urgency: red-flag rules first, then the differential, then the screen.

The urgency is the highest of
  1. every red-flag rule that fires (the only way to reach ``emergency``);
  2. the base urgency of each condition whose probability reaches the policy threshold,
     capped at the policy's ``differential_urgency_cap``;
  3. ``pending_screen_urgency`` while any question of an applicable mandatory screen is
     unanswered, so ``self_care`` is impossible until the screen has been answered "no";
  4. ``unconfirmed_benign_urgency`` until a harmless pattern (``benign_patterns``) holds, so
     ``self_care`` needs positive evidence, not just an absence of red flags.

Why this is safe: rules only ever look for findings that are present, and a red-flag finding
may not appear in a rule's ``none`` clause (the loader refuses such a file); every red-flag
finding has a rule of its own of at least ``urgent``, which is the differential's cap. So
making any red-flag finding present can never lower the urgency.
"""

from __future__ import annotations

from dataclasses import dataclass

from backtriage.domain.assessment import (
    ConditionResult,
    FiredRule,
    PendingQuestion,
    UrgencyReason,
    UrgencyReasonKind,
)
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import BenignPattern, RedFlagRule
from backtriage.reasoning.findings import FindingStates

__all__ = ["Triage", "TriageOutcome"]


@dataclass(frozen=True)
class TriageOutcome:
    urgency: UrgencyLevel
    reasons: list[UrgencyReason]
    fired: list[FiredRule]
    pending: list[PendingQuestion]
    #: Unanswered findings that would complete a harmless pattern; empty once one holds.
    benign_missing: list[str]


class Triage:
    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self._rules = kb.rules
        self._thresholds = kb.policy.differential_thresholds
        self._cap = kb.policy.differential_urgency_cap

    def fire_rules(self, states: FindingStates) -> list[FiredRule]:
        fired = []
        for rule in self._rules:
            matched = _match(rule, states)
            if matched is not None:
                fired.append(
                    FiredRule.model_construct(
                        id=rule.id,
                        name=rule.name,
                        urgency=rule.urgency,
                        findings=matched,
                        suggests=list(rule.suggests),
                        rationale=rule.rationale,
                        sources=list(rule.sources),
                    )
                )
        fired.sort(key=lambda r: -r.urgency.rank)
        return fired

    def pending_questions(self, states: FindingStates) -> list[PendingQuestion]:
        """Questions of every applicable mandatory screen that have no answer yet."""
        pending: list[PendingQuestion] = []
        seen: set[str] = set()
        for screen in self._kb.screens:
            applies = not screen.applies_if_any or any(states.get(f) is True for f in screen.applies_if_any)
            if not applies:
                continue
            for fid in screen.questions:
                if fid not in states and fid not in seen:
                    seen.add(fid)
                    question = self._kb.findings[fid].question or self._kb.findings[fid].label
                    pending.append(PendingQuestion(finding=fid, question=question, screen=screen.id))
        return pending

    def decide(self, states: FindingStates, conditions: list[ConditionResult]) -> TriageOutcome:
        fired = self.fire_rules(states)
        reasons = [_rule_reason(rule) for rule in fired] + self._differential_reasons(conditions)
        urgency = max((r.urgency for r in reasons), default=UrgencyLevel.SELF_CARE)
        pending = self.pending_questions(states)
        floor = self._kb.policy.pending_screen_urgency
        if pending and urgency < floor:
            urgency = floor
            reasons.append(_pending_reason(floor, pending))
        missing: list[str] = []
        if not self.benign_pattern(states):
            missing = self.benign_missing(states)
            floor = self._kb.policy.unconfirmed_benign_urgency
            if urgency < floor:
                urgency = floor
                reasons.append(_no_benign_reason(floor, missing))
        if not reasons:
            reasons.append(_DEFAULT_REASON)
        reasons.sort(key=lambda r: -r.urgency.rank)
        return TriageOutcome(
            urgency=urgency, reasons=reasons, fired=fired, pending=pending, benign_missing=missing
        )

    def _differential_reasons(self, conditions: list[ConditionResult]) -> list[UrgencyReason]:
        """A cause lends its base urgency (capped) once it is likely enough."""
        reasons = []
        for c in conditions:
            lent = min(c.base_urgency, self._cap)
            threshold = self._thresholds.get(lent)
            if lent > UrgencyLevel.SELF_CARE and threshold is not None and c.probability >= threshold:
                reasons.append(
                    UrgencyReason(
                        kind=UrgencyReasonKind.DIFFERENTIAL,
                        urgency=lent,
                        ref=c.id,
                        probability=c.probability,
                        threshold=threshold,
                    )
                )
        return reasons

    def benign_pattern(self, states: FindingStates) -> BenignPattern | None:
        """The first harmless pattern that holds: all of it answered yes, its denials answered no."""
        for bp in self._kb.benign_patterns:
            if (
                all(states.get(f) is True for f in bp.all_of)
                and all(states.get(f) is False for f in bp.denied)
                and all(f in states for f in bp.asked)
            ):
                return bp
        return None

    def benign_missing(self, states: FindingStates) -> list[str]:
        """What is still unanswered in the nearest harmless pattern nothing has ruled out (the one
        with least missing); empty when every pattern has been ruled out."""
        nearest: list[str] | None = None
        for bp in self._kb.benign_patterns:
            ruled_out = any(states.get(f) is False for f in bp.all_of) or any(
                states.get(f) is True for f in bp.denied
            )
            missing = [f for f in (*bp.all_of, *bp.denied, *bp.asked) if f not in states]
            if not ruled_out and (nearest is None or len(missing) < len(nearest)):
                nearest = missing
        return nearest or []


#: No red flag, the red-flag screen answered "no" and a harmless pattern shown.
_DEFAULT_REASON = UrgencyReason(kind=UrgencyReasonKind.DEFAULT, urgency=UrgencyLevel.SELF_CARE)


def _rule_reason(rule: FiredRule) -> UrgencyReason:
    return UrgencyReason(
        kind=UrgencyReasonKind.RULE,
        urgency=rule.urgency,
        ref=rule.id,
        findings=list(rule.findings),
    )


def _pending_reason(floor: UrgencyLevel, pending: list[PendingQuestion]) -> UrgencyReason:
    return UrgencyReason(
        kind=UrgencyReasonKind.PENDING_SCREEN,
        urgency=floor,
        findings=[p.finding for p in pending],
    )


def _no_benign_reason(floor: UrgencyLevel, missing: list[str]) -> UrgencyReason:
    """Self-care needs a pattern known to be harmless; none has been shown (`missing`: what the
    nearest one still needs)."""
    return UrgencyReason(kind=UrgencyReasonKind.NO_BENIGN_PATTERN, urgency=floor, findings=missing)


def _match(rule: RedFlagRule, states: FindingStates) -> list[str] | None:
    """The present findings that make ``rule`` fire, or None if it does not."""
    for fid in rule.all_of:
        if states.get(fid) is not True:
            return None
    for fid in rule.none_of:
        if states.get(fid) is True:
            return None
    matched = list(rule.all_of)
    if rule.any_of:
        hits = [fid for fid in rule.any_of if states.get(fid) is True]
        if not hits:
            return None
        matched.extend(hits)
    return matched
