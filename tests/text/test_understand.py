"""Reading findings from free text, and assessing it: the issue's own examples first."""

from __future__ import annotations

import pytest

from backtriage.domain.case import Case
from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import InvalidInputError
from backtriage.text import MAX_TEXT_CHARS, assess_text, understand


def test_cannot_feel_when_wiping_and_no_pee_is_cauda_equina_emergency() -> None:
    text = "I can't feel anything when I wipe and I haven't peed since last night"
    result = assess_text(text)
    assert result.urgency is UrgencyLevel.EMERGENCY
    assert result.conditions[0].id == "cauda_equina_syndrome"
    by_id = {f.id: f for f in result.findings}
    saddle, bladder = by_id["saddle_anaesthesia"], by_id["bladder_dysfunction"]
    assert saddle.present is True and saddle.origin == "text"
    assert saddle.mentions[0].text == "can't feel anything when I wipe"
    assert text[saddle.mentions[0].start : saddle.mentions[0].end] == saddle.mentions[0].text
    assert bladder.mentions[0].text == "haven't peed"


def test_benign_posture_text_short_of_the_whole_pattern_is_routine() -> None:
    result = assess_text(
        "Tingling in my low back after sitting, gone in minutes when I walk. "
        "No numbness down below, bladder and bowels normal."
    )
    assert result.urgency is UrgencyLevel.ROUTINE
    reason = next(r for r in result.urgency_reasons if r.kind.value == "no_benign_pattern")
    assert "wide_area" in reason.findings and "worse_with_walking" in reason.findings


def test_benign_posture_text_with_screen_answered_is_self_care() -> None:
    result = assess_text(
        "Tingling in my low back after sitting, gone in minutes when I walk. It hasn't spread, "
        "walking doesn't bring it on and nothing goes down my legs. It only comes back when I sit "
        "for hours. No numbness down below, bladder and bowels normal."
    )
    assert result.urgency is UrgencyLevel.SELF_CARE
    assert result.conditions[0].id == "positional_nerve_compression"
    assert result.pending_red_flags == []


def test_family_history_of_ces_does_not_make_the_patient_an_emergency() -> None:
    alone = assess_text("my father had cauda equina syndrome")
    assert alone.urgency is not UrgencyLevel.EMERGENCY
    saddle = assess_text("My dad had numbness between his legs and could not pee.")
    assert saddle.urgency is not UrgencyLevel.EMERGENCY
    assert all(
        m.counted_as == "ignored"
        for m in saddle.text.mentions  # type: ignore[union-attr]
        if m.finding in ("saddle_anaesthesia", "bladder_dysfunction")
    )


def test_negated_red_flags_answer_the_screen_but_hedged_ones_do_not() -> None:
    negated = understand("No saddle numbness, no bladder or bowel problems.")
    assert negated.answers["saddle_anaesthesia"] is False
    assert negated.answers["bladder_dysfunction"] is False
    assert negated.answers["bowel_dysfunction"] is False
    hedged = understand("I think my bum might be a bit numb? Return if bladder problems.")
    assert "saddle_anaesthesia" not in hedged.answers
    assert "bladder_dysfunction" not in hedged.answers


def test_present_wins_over_a_negation_elsewhere() -> None:
    found = understand("No bladder problems at first. Now I have wet myself twice.")
    assert found.answers["bladder_dysfunction"] is True


def test_explicit_answers_override_text_and_dont_know_does_not_erase() -> None:
    text = "No numbness down below, bladder and bowels normal. Tingling after sitting."
    overridden = assess_text(text, Case(answers={"saddle_anaesthesia": True}))
    assert overridden.urgency is UrgencyLevel.EMERGENCY
    kept = assess_text(text, Case(answers={"saddle_anaesthesia": None}))
    by_id = {f.id: f for f in kept.findings}
    assert by_id["saddle_anaesthesia"].present is False


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("I'm 71 and my back tingles", 71, None),
        ("45M c/o LBP", 45, "male"),
        ("62F, 3/7 hx of sciatica", 62, "female"),
        ("(F, 45) numb patch", 45, "female"),
        ("72 yo female with back pain", 72, "female"),
        ("I'm a 34 year old woman", 34, "female"),
    ],
)
def test_age_and_sex(text: str, age: int | None, sex: str | None) -> None:
    reading = understand(text).reading
    assert reading is not None
    assert (reading.age, reading.sex) == (age, sex)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("for 3 months", 90),
        ("x2/52", 14),
        ("3/7 hx", 3),
        ("since this morning", 0.5),
        ("for two weeks", 14),
        ("6/12 history", 180),
    ],
)
def test_duration(text: str, days: float) -> None:
    reading = understand("Back tingling " + text).reading
    assert reading is not None and reading.duration_days == pytest.approx(days)


def test_new_symptoms_block_the_fourteen_day_downgrade() -> None:
    found = understand("Numb around my back passage since yesterday, it hasn't changed.")
    assert found.answers["longstanding_stable"] is False
    assert (
        assess_text("Numb around my back passage since yesterday, it hasn't changed.").urgency
        is UrgencyLevel.EMERGENCY
    )


def test_clinical_note_sections_and_abbreviations() -> None:
    note = (
        "HPI: 45M, 2/52 hx LBP with L sciatica below knee. SLR +ve L at 40°.\n"
        "PMH: T2DM.\nFHx: father MS.\n"
        "O/E: power 5/5 BLE, saddle sensation intact, no urinary retention.\n"
        "Plan: safety-netted re bladder sx."
    )
    found = understand(note)
    assert found.answers["positive_straight_leg_raise"] is True
    assert found.answers["diabetes"] is True  # a history finding counts from PMH
    assert found.answers["saddle_anaesthesia"] is False
    assert found.answers["bladder_dysfunction"] is False
    assert found.answers.get("vision_problems") is None
    assert found.answers["leg_weakness"] is False
    reading = found.reading
    assert reading is not None and reading.age == 45 and reading.sex == "male"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02binary\xff\xfe junk",
        "😀🔥💀 back 🙃",
        "J'ai mal au dos depuis hier",
        "The weather is nice today.",
        "a" * 5000,
    ],
)
def test_odd_input_gives_a_clear_answer(text: str) -> None:
    result = assess_text(text)
    assert result.urgency is UrgencyLevel.ROUTINE  # the screen is unanswered
    assert result.pending_red_flags
    assert result.text is not None and result.text.notes


def test_size_limit_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="limit is 100,000"):
        understand("x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(InvalidInputError):
        understand("a" * 1_048_576)


def test_laterality_and_regions_are_reported() -> None:
    reading = understand("52F, L foot drop. Both legs numb. Pain down my right leg.").reading
    assert reading is not None
    sides = {(m.finding, m.laterality) for m in reading.mentions}
    assert ("foot_drop", "left") in sides
    assert ("bilateral_leg_symptoms", "both") in sides
    assert ("radiates_to_leg", "right") in sides
    assert {m.region for m in reading.mentions if m.finding == "foot_drop"} == {"foot"}


def test_root_level_from_text() -> None:
    result = assess_text("Sciatica into the sole of my left foot and little toe, absent ankle jerk.")
    disc = next(c for c in result.conditions if c.id == "lumbar_disc_herniation")
    assert disc.level == "S1"
