"""Rank the possible causes with a transparent likelihood-ratio (naive Bayes) model.

For each condition, log-odds start at its prior and each answered finding adds the log of its
likelihood ratio (LR+ when present, LR- when absent; unanswered findings add nothing). A few
specific findings (saddle numbness, a fever, weakness of both legs) also carry an
``unexplained_lr``: when present, it applies to every condition that does not list the finding,
because a single cause that cannot account for it is a worse explanation of the whole picture. The
conditions are then treated as competing explanations of the one presentation and normalised
with a softmax over the scores, so probabilities are in [0, 1] and sum to 1. A cause whose
defining findings (``defining`` in conditions.yaml) were all answered "no" is held below the best
remaining cause: "positional compression" cannot lead once the person says posture plays no part.

Why this model: every number is visible, cited and editable in the data files, and each
condition's explanation is exactly the list of ratios that were multiplied. Its known weakness,
treating findings as independent given the condition, tends to overstate confidence when
correlated findings are all present; urgency therefore never rests on the differential alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backtriage.domain.assessment import ConditionResult, EvidenceItem
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import Condition, Evidence, Finding
from backtriage.reasoning.findings import FindingStates

__all__ = ["Differential"]


@dataclass(frozen=True)
class _Row:
    finding: str
    log_present: float
    log_absent: float
    item_present: EvidenceItem
    item_absent: EvidenceItem
    listed: bool = True


@dataclass(frozen=True)
class _CompiledCondition:
    condition: Condition
    log_prior: float
    rows: tuple[_Row, ...]


def _evidence_item(ev: Evidence, finding: Finding, *, present: bool) -> EvidenceItem:
    ratio = ev.ratio_present if present else ev.ratio_absent
    return EvidenceItem(
        finding=ev.finding,
        label=finding.label,
        lay_label=finding.lay_label or finding.label,
        present=present,
        likelihood_ratio=round(ratio, 3),
        estimate=ev.estimate,
        sources=list(ev.sources),
        note=ev.note,
    )


class Differential:
    """A knowledge base compiled for fast, repeated ranking."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        compiled = []
        for c in kb.conditions.values():
            rows = []
            for ev in c.evidence:
                finding = kb.findings[ev.finding]
                rows.append(
                    _Row(
                        finding=ev.finding,
                        log_present=math.log(ev.ratio_present),
                        log_absent=math.log(ev.ratio_absent),
                        item_present=_evidence_item(ev, finding, present=True),
                        item_absent=_evidence_item(ev, finding, present=False),
                    )
                )
            listed = {ev.finding for ev in c.evidence}
            for f in kb.findings.values():
                if f.unexplained_lr is None or f.id in listed:
                    continue
                item = EvidenceItem(
                    finding=f.id,
                    label=f.label,
                    lay_label=f.lay_label or f.label,
                    present=True,
                    estimate=True,
                    likelihood_ratio=f.unexplained_lr,
                    sources=list(f.sources),
                    unexplained=True,
                )
                rows.append(
                    _Row(
                        finding=f.id,
                        log_present=math.log(f.unexplained_lr),
                        log_absent=0.0,
                        item_present=item,
                        item_absent=item.model_copy(update={"present": False, "likelihood_ratio": 1.0}),
                        listed=False,
                    )
                )
            compiled.append(_CompiledCondition(c, math.log(c.prior), tuple(rows)))
        self._conditions = tuple(compiled)

    def rank(self, states: FindingStates) -> list[ConditionResult]:
        scores: list[float] = []
        for cc in self._conditions:
            score = cc.log_prior
            for row in cc.rows:
                state = states.get(row.finding)
                if state is True:
                    score += row.log_present
                elif state is False:
                    score += row.log_absent
            scores.append(score)
        top = max(scores)
        weights = self._hold_down_denied([math.exp(s - top) for s in scores], states)
        total = math.fsum(weights)

        results = []
        for cc, w in zip(self._conditions, weights, strict=True):
            results.append(self._explain(cc, w / total, states))
        results.sort(key=lambda r: (-r.probability, r.id))
        return results

    def _hold_down_denied(self, weights: list[float], states: FindingStates) -> list[float]:
        """A cause whose defining findings were all answered "no" cannot lead: its weight is held
        below ``denied_cause_share`` of the best cause that is still possible."""
        denied = [_defining_denied(cc.condition, states) for cc in self._conditions]
        if not any(denied) or all(denied):
            return weights
        cap = self._kb.policy.denied_cause_share * max(
            w for w, d in zip(weights, denied, strict=True) if not d
        )
        return [min(w, cap) if d else w for w, d in zip(weights, denied, strict=True)]

    def _explain(self, cc: _CompiledCondition, probability: float, states: FindingStates) -> ConditionResult:
        supporting: list[EvidenceItem] = []
        against: list[EvidenceItem] = []
        unanswered: list[str] = []
        for row in cc.rows:
            state = states.get(row.finding)
            if state is None:
                if row.listed:
                    unanswered.append(row.finding)
                continue
            item = row.item_present if state else row.item_absent
            if item.likelihood_ratio > 1:
                supporting.append(item)
            elif item.likelihood_ratio < 1:
                against.append(item)
        supporting.sort(key=lambda e: -e.likelihood_ratio)
        against.sort(key=lambda e: e.likelihood_ratio)
        c = cc.condition
        return ConditionResult.model_construct(
            id=c.id,
            name=c.name,
            lay_name=c.lay_name,
            icd10=list(c.icd10),
            probability=min(1.0, max(0.0, probability)),
            base_urgency=c.base_urgency,
            evidence_for=supporting,
            evidence_against=against,
            unanswered=unanswered,
            level=_level(c, states),
            scope=c.scope,
            defining_denied=_defining_denied(c, states),
        )


def _defining_denied(condition: Condition, states: FindingStates) -> bool:
    return bool(condition.defining) and all(states.get(f) is False for f in condition.defining)


def _level(condition: Condition, states: FindingStates) -> str | None:
    """The spinal root level with the most present findings, if exactly one leads."""
    counts = {
        level: sum(1 for f in fids if states.get(f) is True) for level, fids in condition.levels.items()
    }
    if not counts:
        return None
    best = max(counts.values())
    leaders = [lvl for lvl, n in counts.items() if n == best]
    return leaders[0] if best > 0 and len(leaders) == 1 else None
