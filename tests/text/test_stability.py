"""Durations belong to what they qualify: the 14-day downgrade needs a long duration tied to the
red-flag feature in its own sentence, and an age is never a duration."""

from __future__ import annotations

import pytest

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text, understand
from backtriage.text.extract import extract_time_course

NEW = "Saddle numbness for 2 days, unchanged."
OLD = "Saddle numbness for 3 months, unchanged."


@pytest.mark.parametrize(
    "text",
    [
        NEW,
        f"45 year old woman. {NEW}",
        f"{NEW} 62M",
        f"I'm 70. {NEW}",
        f"Aged 38 years. {NEW}",
        f"I've had eczema for 20 years. {NEW}",
        "Back pain for 20 years, unchanged. Saddle numbness.",
        "Saddle numbness, unchanged. Knee pain for 3 months.",
        "Saddle numbness for 3 months, unchanged, but getting worse this week.",
    ],
)
def test_a_red_flag_is_not_downgraded_by_a_duration_that_is_not_its_own(text: str) -> None:
    assert assess_text(text).urgency is UrgencyLevel.EMERGENCY


def test_a_duration_tied_to_the_feature_and_stability_downgrades_it() -> None:
    for text in (OLD, f"45 year old woman. {OLD}", f"{OLD} I'm 70."):
        found = understand(text)
        assert found.answers.get("longstanding_stable") is True, text
        assert assess_text(text).urgency is UrgencyLevel.URGENT, text


def test_a_feature_told_with_a_short_duration_is_new() -> None:
    found = understand("Saddle numbness since this morning. Back pain for 10 years, stable.")
    assert found.answers.get("longstanding_stable") is False


def test_an_age_is_never_a_duration() -> None:
    for text in ("45 year old woman", "a 45-year-old man", "aged 45 years", "I'm 45 years old", "F, 45."):
        assert extract_time_course(text).durations == (), text
    assert extract_time_course("45 year old woman, numb for 3 weeks").duration_days == 21


@pytest.mark.parametrize(
    "text",
    [
        "My lower back goes tingly when I sit at my desk",
        "my legs go numb after sitting for an hour",
        "sitting makes it worse",
        "I get pins and needles in my back when I'm sitting at work",
    ],
)
def test_a_trigger_is_not_a_reliever(text: str) -> None:
    assert understand(text).answers.get("relieved_by_sitting_or_flexion") is not True


@pytest.mark.parametrize(
    "text", ["it eases when I sit down", "better when I bend forward", "tingling gets better when I sit"]
)
def test_a_reliever_is_read(text: str) -> None:
    found = understand(text)
    assert found.answers.get("relieved_by_sitting_or_flexion") is True
    assert found.answers.get("posture_related") is not True
