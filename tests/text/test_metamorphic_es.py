"""Metamorphic safety in Spanish: harmless rewrites of a Spanish red-flag description never lower
its urgency nor lose a red flag, and denying every red flag never makes an emergency. The relations
and phrases are in tests/text/metamorphic_es.py; benchmarks/bench_metamorphic.py --lang es runs
thousands of variants."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.text.metamorphic import Case, _add
from tests.text.metamorphic_es import (
    PHRASES_ES,
    TRANSFORMATIONS_ES,
    check_denial_es,
    check_es,
    deny_es,
    spanish_cases,
    spanish_red_flag_cases,
)

#: Cases a harmless rewrite still changes, and why; each is shown to still fail below, so the list
#: cannot go stale. They are drawn from the relations until the reader or knowledge base is mended.
KNOWN = {
    "es1-lt-050": (
        "age_before",
        "a stated age of 60 or more lowers multiple sclerosis below the line for a same-day "
        "review: the differential, not a rule, makes this relapse urgent",
    ),
}

SETTINGS = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
CASES = st.deferred(lambda: st.sampled_from([c for c in spanish_red_flag_cases() if c.id not in KNOWN]))
CALM = st.deferred(lambda: st.sampled_from([c for c in spanish_cases() if c.label != "emergency"]))
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def test_the_spanish_relations_have_cases() -> None:
    assert len(spanish_red_flag_cases()) >= 150
    assert all(c.id in {x.id for x in spanish_cases()} for c in spanish_red_flag_cases())


@pytest.mark.slow
@SETTINGS
@given(case=CASES, name=st.sampled_from(sorted(TRANSFORMATIONS_ES)), seed=SEEDS)
def test_harmless_spanish_rewrites_never_lower_urgency(case: Case, name: str, seed: int) -> None:
    text = TRANSFORMATIONS_ES[name](case.text, random.Random(seed))
    violation = check_es(case, text, name)
    assert violation is None, violation.describe()


@pytest.mark.slow
@SETTINGS
@given(case=CALM, seed=SEEDS)
def test_denying_every_red_flag_in_spanish_never_makes_an_emergency(case: Case, seed: int) -> None:
    violation = check_denial_es(case, deny_es(case.text, random.Random(seed)))
    assert violation is None, violation.describe()


def _known_rewrite(case: Case, kind: str) -> str:
    assert kind == "age_before", kind
    return _add(case.text, "Edad: 75.", random.Random(0), "before")


@pytest.mark.parametrize("case_id", sorted(KNOWN))
def test_known_spanish_violations_still_hold(case_id: str) -> None:
    """Each known case still fails its rewrite; when one is mended, take it off KNOWN."""
    case = next(c for c in spanish_red_flag_cases() if c.id == case_id)
    kind, _reason = KNOWN[case_id]
    assert check_es(case, _known_rewrite(case, kind), kind) is not None, (
        f"{case_id} now holds: take it off KNOWN"
    )


def test_spanish_phrases_are_spanish() -> None:
    """The additions are read as Spanish, so a rewrite never changes the language identified."""
    from backtriage.text.identify import identify

    for kind in (
        "greetings",
        "signoffs",
        "unrelated_history",
        "unrelated_duration",
        "second_complaints",
        "denials",
    ):
        for phrase in PHRASES_ES[kind]:
            guess = identify(f"{phrase} Me duele la espalda y se me duermen las piernas.", ("en", "es"))
            assert guess.language == "es", phrase
