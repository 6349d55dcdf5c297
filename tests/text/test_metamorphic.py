"""Metamorphic safety: harmless rewrites of a red-flag description never lower its urgency nor
lose a red flag; denying every red flag never makes an emergency; what brings a symptom on is never
read as what relieves it. The relations and their phrases are in tests/text/metamorphic.py."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text
from tests.text.metamorphic import (
    RELIEF,
    TRANSFORMATIONS,
    Case,
    all_cases,
    check,
    check_denial,
    check_trigger,
    deny,
    red_flag_cases,
    trigger_texts,
)

SETTINGS = settings(
    max_examples=500,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Drawn lazily, so collecting this file does not read the rendered vignettes.
RED_FLAG_CASES = st.deferred(lambda: st.sampled_from(red_flag_cases()))
CALM_CASES = st.deferred(lambda: st.sampled_from([c for c in all_cases() if c.label != "emergency"]))
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@SETTINGS
@given(case=RED_FLAG_CASES, name=st.sampled_from(sorted(TRANSFORMATIONS)), seed=SEEDS)
def test_harmless_rewrites_never_lower_urgency_nor_lose_a_red_flag(case: Case, name: str, seed: int) -> None:
    violation = check(case, TRANSFORMATIONS[name](case.text, random.Random(seed)), name)
    assert violation is None, violation.describe()


@settings(SETTINGS, max_examples=200)
@given(case=CALM_CASES, seed=SEEDS)
def test_denying_every_red_flag_never_makes_an_emergency(case: Case, seed: int) -> None:
    violation = check_denial(case, deny(case.text, random.Random(seed)))
    assert violation is None, violation.describe()


def test_what_brings_it_on_is_never_read_as_relief() -> None:
    violations = [v for v in (check_trigger(i, t) for i, t in trigger_texts()) if v is not None]
    assert not violations, f"{len(violations)} triggers read as relief, e.g.\n" + "\n".join(
        v.describe() for v in violations[:5]
    )


def test_an_age_before_the_text_is_not_a_duration() -> None:
    """Known bug: "45 year old" was read as a 45-year duration, so with "unchanged" the saddle
    numbness counted as stable for more than 14 days and went to the urgent route."""
    plain = assess_text("Saddle numbness for 2 days, unchanged.").urgency
    aged = assess_text("45 year old woman. Saddle numbness for 2 days, unchanged.")
    assert plain is UrgencyLevel.EMERGENCY
    duration = aged.text.duration_text if aged.text else None
    assert aged.urgency is UrgencyLevel.EMERGENCY, f"{aged.urgency}, duration read as {duration!r}"


def test_sitting_that_brings_it_on_is_not_relief() -> None:
    """Known bug: "goes tingly when I sit" was read as relieved by sitting."""
    result = assess_text("My lower back goes tingly when I sit at my desk")
    assert {f.id: f.present for f in result.findings}.get(RELIEF) is not True
