"""Urgency rules, the mandatory screen and the GIRFT 14-day rule, on hand-picked cases."""

from __future__ import annotations

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import Engine
from tests.conftest import SCREEN_NO

POSTURE = {
    "posture_related": True,
    "resolves_with_movement": True,
    "lower_back_symptoms": True,
    # the seed's discriminators: a harmless pattern needs them answered
    "persistent": False,
    "recurring": False,
    "wide_area": False,
    "worse_with_walking": False,
    "radiates_to_leg": False,
}


def run(engine: Engine, **answers: bool | None) -> tuple[UrgencyLevel, list[str]]:
    result = engine.assess(Case(answers=answers))
    return result.urgency, [r.id for r in result.rules_fired]


def test_saddle_with_new_bladder_trouble_is_emergency_naming_the_rule(engine: Engine) -> None:
    result = engine.assess(Case(answers={"saddle_anaesthesia": True, "bladder_dysfunction": True}))
    assert result.urgency is UrgencyLevel.EMERGENCY
    assert result.red_flags[0].id == "ces_saddle_with_sphincter"
    assert result.conditions[0].id == "cauda_equina_syndrome"


def test_fourteen_day_rule_downgrades_a_single_stable_feature_to_urgent(engine: Engine) -> None:
    assert run(engine, saddle_anaesthesia=True)[0] is UrgencyLevel.EMERGENCY
    assert run(engine, saddle_anaesthesia=True, longstanding_stable=None)[0] is UrgencyLevel.EMERGENCY
    urgency, fired = run(engine, saddle_anaesthesia=True, longstanding_stable=True)
    assert urgency is UrgencyLevel.URGENT
    assert "ces_feature_longstanding" in fired


def test_saddle_and_sphincter_together_stay_emergency_even_when_longstanding(engine: Engine) -> None:
    urgency, _ = run(engine, saddle_anaesthesia=True, bowel_dysfunction=True, longstanding_stable=True)
    assert urgency is UrgencyLevel.EMERGENCY


def test_seed_motor_emergency(engine: Engine) -> None:
    assert run(engine, sudden_severe_back_pain=True, foot_drop=True)[0] is UrgencyLevel.EMERGENCY
    assert (
        run(engine, sudden_severe_back_pain=True, bilateral_leg_weakness=True, longstanding_stable=True)[0]
        is UrgencyLevel.EMERGENCY
    )
    assert run(engine, foot_drop=True)[0] is UrgencyLevel.URGENT


def test_fever_and_cancer_rules(engine: Engine) -> None:
    assert run(engine, fever=True, back_pain=True)[0] is UrgencyLevel.URGENT
    assert run(engine, fever=True, back_pain=True, iv_drug_use=True)[0] is UrgencyLevel.EMERGENCY
    assert run(engine, fever=True, leg_weakness=True)[0] is UrgencyLevel.EMERGENCY
    assert run(engine, cancer_history=True, back_pain=True)[0] is UrgencyLevel.URGENT
    assert run(engine, cancer_history=True, back_pain=True, leg_weakness=True)[0] is UrgencyLevel.EMERGENCY


def test_benign_posture_case_needs_the_screen_before_self_care(engine: Engine) -> None:
    without = engine.assess(Case(answers=POSTURE))
    assert without.urgency is UrgencyLevel.ROUTINE
    assert [p.finding for p in without.pending_red_flags] == [
        "saddle_anaesthesia",
        "bladder_dysfunction",
        "bowel_dysfunction",
    ]
    assert any(a.id == "action_answer_screen" for a in without.advice)

    answered = engine.assess(Case(answers={**POSTURE, **SCREEN_NO}))
    assert answered.urgency is UrgencyLevel.SELF_CARE
    assert answered.pending_red_flags == []
    assert answered.conditions[0].id == "positional_nerve_compression"


def test_dont_know_counts_as_unanswered(engine: Engine) -> None:
    answers = {**POSTURE, **SCREEN_NO, "bowel_dysfunction": None}
    result = engine.assess(Case(answers=answers))
    assert result.urgency is UrgencyLevel.ROUTINE
    assert [p.finding for p in result.pending_red_flags] == ["bowel_dysfunction"]


def test_leg_symptoms_bring_in_the_leg_screen(engine: Engine) -> None:
    result = engine.assess(Case(answers={**POSTURE, **SCREEN_NO, "radiates_to_leg": True}))
    assert {p.finding for p in result.pending_red_flags} == {"bilateral_leg_weakness", "foot_drop"}
    assert result.urgency is not UrgencyLevel.SELF_CARE


def test_differential_alone_never_gives_emergency(engine: Engine) -> None:
    # Diabetes-free, fever-free thoracic case where a serious cause leads but no rule fires.
    result = engine.assess(
        Case(
            answers={
                "cancer_history": False,
                "night_pain": True,
                "unexplained_weight_loss": True,
                **SCREEN_NO,
            },
            age=70,
        )
    )
    assert result.urgency < UrgencyLevel.EMERGENCY
    assert all(r.urgency < UrgencyLevel.EMERGENCY for r in result.rules_fired)


def test_reasons_explain_the_final_urgency(engine: Engine) -> None:
    result = engine.assess(Case(answers={"foot_drop": True}))
    assert result.urgency_reasons[0].urgency is result.urgency
    assert result.urgency_reasons[0].ref == "foot_drop_present"
