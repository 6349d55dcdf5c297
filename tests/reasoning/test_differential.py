"""The likelihood-ratio differential and its explanations."""

from __future__ import annotations

import math

import pytest

from backtriage.domain.case import Case
from backtriage.errors import InvalidInputError, UnknownFindingError
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.engine import Engine
from tests.conftest import SCREEN_NO


def test_no_answers_gives_the_normalised_priors(engine: Engine, kb: KnowledgeBase) -> None:
    result = engine.assess(Case())
    total = sum(c.prior for c in kb.conditions.values())
    for c in result.conditions:
        assert c.probability == pytest.approx(kb.conditions[c.id].prior / total)


def test_posterior_follows_the_stated_likelihood_ratios(engine: Engine, kb: KnowledgeBase) -> None:
    """Odds between two conditions move by exactly the ratio of their LRs."""
    base = {c.id: c.probability for c in engine.assess(Case()).conditions}
    after = {c.id: c.probability for c in engine.assess(Case(answers={"itch": True})).conditions}
    notalgia = {e.finding: e for e in kb.conditions["notalgia_paresthetica"].evidence}["itch"]
    zoster = {e.finding: e for e in kb.conditions["herpes_zoster"].evidence}["itch"]
    expected = notalgia.ratio_present / zoster.ratio_present
    moved = (after["notalgia_paresthetica"] / after["herpes_zoster"]) / (
        base["notalgia_paresthetica"] / base["herpes_zoster"]
    )
    assert moved == pytest.approx(expected)


def test_evidence_lists_name_weights_and_sources(engine: Engine) -> None:
    result = engine.assess(
        Case(
            answers={
                "worse_with_walking": True,
                "bilateral_leg_symptoms": True,
                "relieved_by_sitting_or_flexion": True,
                **SCREEN_NO,
            },
            age=75,
        )
    )
    top = result.conditions[0]
    assert top.id == "lumbar_spinal_stenosis"
    by_finding = {e.finding: e for e in top.evidence_for}
    assert by_finding["worse_with_walking"].likelihood_ratio == pytest.approx(3.7)
    assert by_finding["worse_with_walking"].sources == ["suri_2010_jama", "seed_structural"]
    assert by_finding["age_70_or_over"].likelihood_ratio == pytest.approx(2.0)
    assert not by_finding["worse_with_walking"].estimate
    for ev in top.evidence_for:
        assert set(ev.sources) <= set(result.sources)
    ratios = [e.likelihood_ratio for e in top.evidence_for]
    assert ratios == sorted(ratios, reverse=True)


def test_absent_findings_count_against(engine: Engine) -> None:
    result = engine.assess(Case(answers={"resolves_with_movement": False}))
    positional = next(c for c in result.conditions if c.id == "positional_nerve_compression")
    assert [e.finding for e in positional.evidence_against] == ["resolves_with_movement"]
    assert positional.evidence_against[0].present is False
    assert positional.evidence_against[0].likelihood_ratio == pytest.approx(0.15)


def test_sensitivity_and_specificity_become_ratios(kb: KnowledgeBase) -> None:
    slr = {e.finding: e for e in kb.conditions["lumbar_disc_herniation"].evidence}[
        "positive_straight_leg_raise"
    ]
    assert slr.ratio_present == pytest.approx(0.91 / 0.74)
    assert slr.ratio_absent == pytest.approx(0.09 / 0.26)


def test_root_level_is_reported_for_disc_herniation(engine: Engine) -> None:
    result = engine.assess(
        Case(answers={"radiates_to_leg": True, "numb_sole_or_little_toe": True, "reduced_ankle_reflex": True})
    )
    disc = next(c for c in result.conditions if c.id == "lumbar_disc_herniation")
    assert disc.level == "S1"


def test_unknown_finding_is_refused_with_a_suggestion(engine: Engine) -> None:
    with pytest.raises(UnknownFindingError) as err:
        engine.assess(Case(answers={"saddle_anesthesia": True}))
    assert "did you mean 'saddle_anaesthesia'" in str(err.value)


def test_derived_findings_come_from_demographics_only(engine: Engine) -> None:
    with pytest.raises(InvalidInputError, match="give 'age' instead"):
        engine.assess(Case(answers={"age_70_or_over": True}))
    result = engine.assess(Case(age=72, sex="female"))
    derived = {f.id: f.present for f in result.findings if f.origin == "derived"}
    assert derived["age_70_or_over"] is True
    assert derived["age_under_60"] is False
    assert derived["sex_female"] is True and derived["sex_male"] is False


def test_probabilities_are_finite(engine: Engine) -> None:
    every_yes = {f.id: True for f in engine.kb.asked_findings}
    result = engine.assess(Case(answers=every_yes, age=50, sex="male"))
    assert all(math.isfinite(c.probability) for c in result.conditions)
    assert sum(c.probability for c in result.conditions) == pytest.approx(1.0)
