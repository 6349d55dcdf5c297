"""The concept reader: findings from what people describe, in their own forms and spellings.

Each case is one kind of wording the issue names (the seed's definitions in other words, small
changes of form, misspellings, landmarks, injury mechanisms) written fresh for this test.
"""

from __future__ import annotations

import pytest

from backtriage.domain.urgency import UrgencyLevel
from backtriage.text import assess_text, understand
from backtriage.text.pipeline import default_pipeline

PRESENT = [
    # foot drop by what the foot does or cannot do
    ("when I walk my right foot smacks down on the floor", "foot_drop"),
    ("the toes on my left foot won't come up any more", "foot_drop"),
    ("I tried and I cant walk on my heels", "foot_drop"),
    ("my foot doesn't lift properly so I trip on the stairs", "foot_drop"),
    # weakness of both legs by what the legs do
    ("both my legs keep folding under me", "bilateral_leg_weakness"),
    ("my legs feel like cotton wool and just give out", "bilateral_leg_weakness"),
    ("my legs wont hold my weight since this morning", "bilateral_leg_weakness"),
    # saddle numbness through wiping, the toilet, sex, or without "my"
    ("I can't really feel the paper when I wipe", "saddle_anaesthesia"),
    ("numb between legs since yesterday", "saddle_anaesthesia"),
    ("last night during sex i couldnt feel a thing", "saddle_anaesthesia"),
    # bladder and bowel in lay words
    ("woke up and the bed was wet, never happened before", "bladder_dysfunction"),
    ("pooed myself at work and didnt feel it", "bowel_dysfunction"),
    ("i havent had a wee since yesterday morning", "bladder_dysfunction"),
    # a sensory level by a landmark
    ("everything from my belly button down is numb", "sensory_level"),
    ("numb below the nipples on both sides", "sensory_level"),
    # injury mechanisms with their energy
    ("fell off a ladder at work yesterday", "major_trauma"),
    ("came off my horse and landed on my back", "major_trauma"),
    ("was a passenger when the car rolled over on the motorway", "major_trauma"),
]


@pytest.mark.parametrize(("text", "finding"), PRESENT)
def test_described_findings_are_read(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is True, text


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("numbess in my buttocks and groin", "saddle_anaesthesia"),
        ("tinglin and pins n needls down my leg with sciatia", "radiates_to_leg"),
        ("my bak is killin me and i cant realy feel nothin when i wipe", "saddle_anaesthesia"),
        ("legz keep givin way", "bilateral_leg_weakness"),
    ],
)
def test_misspellings_and_dropped_letters_are_read(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is True, text


def test_each_mention_records_the_concepts_and_corrections_behind_it() -> None:
    reading = understand("i cant realy feel nothin wen i wipe").reading
    assert reading is not None
    (mention,) = [m for m in reading.mentions if m.finding == "saddle_anaesthesia"]
    assert any(c.startswith("NUMB:") for c in mention.concepts)
    assert any(c.startswith("WIPING:") for c in mention.concepts)
    assert "nothin -> nothing" in mention.corrections


def test_spelling_correction_never_turns_an_english_word_into_a_concept() -> None:
    norm = default_pipeline().concepts.normaliser.norm
    for word in ("numbers", "afebrile", "waist", "tissue", "bidder"):
        assert norm(word) != "numbness" and norm(word) != "febrile" and norm(word) != "bladder"
    assert norm("numbess") == "numbness"
    assert norm("sciatia") == "sciatica"


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        # a car "accident" is not a bowel accident; an accident at work neither
        ("Chronic LBP since a car accident at work in 2019", "bowel_dysfunction"),
        # a sinus retention cyst is not urinary retention
        ("CT sinuses: small retention cyst in the left maxillary antrum", "bladder_dysfunction"),
        # normal sphincter tone is not sphincter trouble
        ("PR: normal sphincter tone and squeeze", "bowel_dysfunction"),
        ("PR: normal sphincter tone and squeeze", "bladder_dysfunction"),
        # the bottom of a foot is not the saddle
        ("numbness in the bottom of my foot after running", "saddle_anaesthesia"),
        # a splint to prevent foot drop is not foot drop
        ("night splint fitted to prevent foot drop", "foot_drop"),
        # a new bike saddle is not saddle anaesthesia
        ("got a new saddle for my bike and my back aches", "saddle_anaesthesia"),
    ],
)
def test_a_word_is_not_a_finding_out_of_its_sense(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is not True, text


def test_a_denial_interrupted_by_however_is_still_a_denial() -> None:
    answers = understand("He denies, however, any bladder or bowel dysfunction.").answers
    assert answers.get("bladder_dysfunction") is not True
    assert answers.get("bowel_dysfunction") is not True


def test_legs_going_numb_on_walking_is_not_numbness_that_clears_with_movement() -> None:
    answers = understand("my legs go numb when I walk to the shops").answers
    assert answers.get("worse_with_walking") is True
    assert answers.get("resolves_with_movement") is not True


def test_a_history_heading_does_not_make_the_presenting_complaint_historical() -> None:
    base = "hx of HTN, now presents with numb saddle area and urinary retention since this morning"
    young, old = assess_text("47F " + base), assess_text("75M " + base)
    assert young.urgency is old.urgency is UrgencyLevel.EMERGENCY


def test_a_past_date_is_not_the_duration_of_present_symptoms() -> None:
    reading = understand("Breast cancer 5 yrs ago. Back pain and tingling for 3 days.").reading
    assert reading is not None and reading.duration_days == 3


def test_lay_denials_answer_the_screen() -> None:
    answers = understand("no numbness between legs, bladder and bowels normal").answers
    assert answers["saddle_anaesthesia"] is False
    assert answers["bladder_dysfunction"] is False
    assert answers["bowel_dysfunction"] is False


def test_a_negation_inside_a_described_finding_denies_it() -> None:
    answers = understand("my legs aren't weak and nothing numb down there").answers
    assert answers.get("bilateral_leg_weakness") is False
    assert answers.get("saddle_anaesthesia") is False


def test_a_relative_described_by_the_writer_is_the_patient() -> None:
    text = "My nan is 79, she heard a crack in her back and now her legs wont hold her up"
    assert understand(text).answers.get("bilateral_leg_weakness") is True
    history = "My dad had numbness between his legs and could not pee."
    assert understand(history).answers.get("saddle_anaesthesia") is not True


def test_old_trauma_does_not_count_as_todays_injury() -> None:
    text = "I had a car crash back in 2012. Now my lower back tingles after long drives."
    assert understand(text).answers.get("major_trauma") is not True


def test_a_past_history_list_is_the_past_but_the_complaint_after_it_is_not() -> None:
    note = (
        "PMHx:\n- RTA 1999, femur fracture\n- L5/S1 discectomy 2004\n"
        "HPC: 2/7 numb saddle area and urinary retention."
    )
    answers = understand(note).answers
    assert answers.get("major_trauma") is not True
    assert answers["saddle_anaesthesia"] is True and answers["bladder_dysfunction"] is True


def test_review_of_systems_negatives_and_return_to_clinic_are_not_findings() -> None:
    answers = understand("ROS: + fatigue. Neg fever, wt loss, rash.\nPlan: RTC 4 wks prn").answers
    assert answers.get("fever") is False
    assert answers.get("major_trauma") is not True


def test_someone_elses_body_as_a_simile_is_the_patients_own_numbness() -> None:
    text = "when I wipe it's like it's someone else's bum, I can't really feel the paper"
    assert understand(text).answers.get("saddle_anaesthesia") is True


def test_clinical_shorthand_for_a_dropped_foot() -> None:
    assert understand("Strength 3/5 b/l ankle DF.").answers.get("foot_drop") is True
    assert understand("Power 5/5 throughout incl DF.").answers.get("foot_drop") is not True


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Bladder leaking, bowels normal.", "bladder_dysfunction"),
        ("PMH: nil\nSaddle numbness since yesterday\nCannot pee at all", "saddle_anaesthesia"),
        ("Hx: 2 days of saddle numbness and urinary retention.", "saddle_anaesthesia"),
        ("I have numbness in my groin and my heel.", "saddle_anaesthesia"),
        ("I lost control of my bowels on the bus.", "bowel_dysfunction"),
        ("I haven't managed to pee since about 9 this morning", "bladder_dysfunction"),
        ("And I nearly didn't make it to the toilet twice today.", "bladder_dysfunction"),
    ],
)
def test_a_red_flag_is_not_lost_to_a_neighbouring_word(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is True, text


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Patient is a 54F with low back pain. FHx: mother had breast cancer.", "cancer_history"),
        ("I feel crap and can't sleep.", "bowel_dysfunction"),
        ("I can't sit on a bar stool.", "bowel_dysfunction"),
        ("I've had a wee bit of difficulty sleeping.", "bladder_dysfunction"),
        ("My left leg has been weak for two days", "bilateral_leg_weakness"),
        ("Numbness in the ball of my foot", "saddle_anaesthesia"),
        ("I have not had any bladder problems.", "bladder_dysfunction"),
        ("Pins and needles down my leg and my stomach is upset", "sensory_level"),
        ("Power 5/5 including ankle DF, absent ankle jerks", "foot_drop"),
    ],
)
def test_common_words_do_not_make_red_flags(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is not True, text


def test_spans_point_into_the_text_even_when_lower_casing_changes_its_length() -> None:
    text = "\u0130\u0130\u0130 note: numbess around the back passage and cant pee"
    reading = understand(text).reading
    assert reading is not None and reading.mentions
    for m in reading.mentions:
        assert text[m.start : m.end] == m.text
