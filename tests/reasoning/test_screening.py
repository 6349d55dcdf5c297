"""What earns a screen alert: only the policy's red-flag rules, fired by findings written as the
patient's state now; single features and emergencies outside the back only in a note about the
back or limb numbness; never in a post-mortem report; more red flags never fewer alerts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.domain.note import NoteKind
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.reasoning.screening import decide_alert
from backtriage.reasoning.triage import Triage

KB = load_knowledge_base()
TRIAGE = Triage(KB)
SCREEN = KB.policy.screen
READABLE = sorted(f.id for f in KB.findings.values() if f.derived_from is None)
RED_FLAGS = sorted(KB.red_flag_findings)


def test_a_single_sphincter_feature_alerts_only_in_a_note_about_the_back() -> None:
    retention = {"bladder_dysfunction": True}
    assert decide_alert(KB, TRIAGE, retention, {}).required is None  # a urology note
    about_back = decide_alert(KB, TRIAGE, retention, {"back_pain": True})
    assert about_back.required is UrgencyLevel.EMERGENCY and about_back.about_topic


def test_the_backs_own_emergencies_alert_in_any_note() -> None:
    ces = {"saddle_anaesthesia": True, "bladder_dysfunction": True}
    decision = decide_alert(KB, TRIAGE, ces, {})
    assert decision.required is UrgencyLevel.EMERGENCY
    assert {r.id for r in decision.rules} & set(SCREEN.alert_anywhere)


def test_a_cancer_history_alone_is_no_alert_but_with_new_back_pain_it_is() -> None:
    assert decide_alert(KB, TRIAGE, {"cancer_history": True}, {"back_pain": True}).required is None
    with_pain = {"cancer_history": True, "back_pain": True}
    assert decide_alert(KB, TRIAGE, with_pain, {"back_pain": True}).required is UrgencyLevel.URGENT


def test_a_post_mortem_report_never_alerts() -> None:
    ces = {"saddle_anaesthesia": True, "bladder_dysfunction": True, "back_pain": True}
    assert decide_alert(KB, TRIAGE, ces, ces, NoteKind.AUTOPSY).required is None


def test_every_listed_rule_is_a_red_flag_rule_of_at_least_urgent() -> None:
    rules = {r.id: r for r in KB.rules}
    for rid in [*SCREEN.alert_anywhere, *SCREEN.alert_in_topic]:
        assert rules[rid].urgency >= UrgencyLevel.URGENT


findings_sets = st.dictionaries(st.sampled_from(READABLE), st.booleans(), max_size=12)


@settings(max_examples=400, deadline=None)
@given(findings_sets, findings_sets, st.sampled_from(RED_FLAGS))
def test_adding_a_red_flag_never_lowers_what_the_screen_requires(
    current: dict[str, bool], presenting: dict[str, bool], added: str
) -> None:
    before = decide_alert(KB, TRIAGE, current, presenting)
    after = decide_alert(KB, TRIAGE, {**current, added: True}, {**presenting, added: True})
    assert (after.required or UrgencyLevel.SELF_CARE) >= (before.required or UrgencyLevel.SELF_CARE)
    assert {r.id for r in before.rules} <= {r.id for r in after.rules}


@settings(max_examples=400, deadline=None)
@given(findings_sets, findings_sets)
def test_an_alert_rests_on_listed_rules_and_on_findings_written_now(
    current: dict[str, bool], presenting: dict[str, bool]
) -> None:
    decision = decide_alert(KB, TRIAGE, current, presenting)
    allowed = set(SCREEN.alert_anywhere) | (set(SCREEN.alert_in_topic) if decision.about_topic else set())
    for rule in decision.rules:
        assert rule.id in allowed and rule.urgency >= UrgencyLevel.URGENT
        assert rule.findings and all(current.get(f) is True for f in rule.findings)
