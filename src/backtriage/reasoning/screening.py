"""What earns an alert when a clinical note is screened for a red flag left without action.

An analyst reading alerts across a hospital's notes needs almost every one to be real. So an
alert rests only on a red-flag rule the policy names (`policy.yaml: screen`), fired by findings
the clinician wrote as the patient's state now (history, chief complaint, examination,
assessment, plan, results), not by a review-of-systems tick list or past history. The back's own
emergencies (saddle numbness with sphincter trouble, sudden back pain with a motor deficit, a
new sensory level, fever or injecting with back pain) earn an alert in any note; a single
sphincter or motor feature, and emergencies outside the back, earn one only in a note about the
back or limb numbness, where this tool's knowledge applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backtriage.domain.assessment import FiredRule
from backtriage.domain.case import Case
from backtriage.domain.note import NoteKind
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.findings import resolve_findings
from backtriage.reasoning.triage import Triage

__all__ = ["ScreenDecision", "decide_alert"]


@dataclass(frozen=True)
class ScreenDecision:
    """The rules an alert rests on and the care they require (None: nothing to alert on)."""

    rules: tuple[FiredRule, ...]
    about_topic: bool

    @property
    def required(self) -> UrgencyLevel | None:
        return max((r.urgency for r in self.rules), default=None)


def decide_alert(
    kb: KnowledgeBase,
    triage: Triage,
    current: Mapping[str, bool],
    presenting: Mapping[str, bool],
    kind: NoteKind = NoteKind.MESSAGE,
) -> ScreenDecision:
    """`current`: the findings written as the patient's state now (present True, denied False);
    `presenting`: those of the problem the note is about (its complaint, history of the present
    illness, indication or assessment), which say whether it is about the back or limb numbness."""
    screen = kb.policy.screen
    if kind in screen.no_alert_note_kinds:
        return ScreenDecision((), False)
    about_topic = any(presenting.get(f) is True for f in screen.topic_findings)
    allowed = set(screen.alert_anywhere) | (set(screen.alert_in_topic) if about_topic else set())
    states, _ = resolve_findings(Case(answers=dict(current)), kb)
    fired = [r for r in triage.fire_rules(states) if r.id in allowed and r.urgency >= UrgencyLevel.URGENT]
    return ScreenDecision(tuple(fired), about_topic)
