"""Emergencies outside the back, in the words people type into a back tool.

The knowledge base asks about strokes, heart pain, the aorta, head and neck injuries, a cold limb,
sepsis, low calcium and over-breathing before anything about the spine. These cases check that
the reader knows the lay, texting and clinical words for those findings, that negation, other
people, hypotheticals and the past are still handled by the context machinery, and that the
harmless look-alikes of each (a dead arm after sleeping on it, tingling lips in a panic attack,
a band of shingles pain round the ribs) do not become emergencies. Every sentence was written for
this test.
"""

from __future__ import annotations

import pytest

from backtriage.text import understand

PRESENT = [
    # stroke: face, speech, one side, a named stroke or TIA, relatives and texting
    ("my dad's face has dropped on one side and he's slurring", "stroke_signs"),
    ("her mouth is drooping at the left corner", "stroke_signs"),
    ("face gone all lopsided since this morning", "stroke_signs"),
    ("my smile is lopsided and I can't whistle", "stroke_signs"),
    ("slurred speech started an hour ago", "stroke_signs"),
    ("hes slurrin his words n his face is droopin", "stroke_signs"),
    ("sluring his words since tea time", "stroke_signs"),
    ("my words are coming out all wrong", "stroke_signs"),
    ("mum is talking gibberish and her arm went floppy", "stroke_signs"),
    ("couldn't get my words out for about 10 mins", "stroke_signs"),
    ("the whole left side of my body went numb suddenly", "stroke_signs"),
    ("my right arm and leg went weak all of a sudden", "stroke_signs"),
    ("left arm went dead and I couldnt lift it, no pain", "stroke_signs"),
    ("one side of my face went numb and tingly", "stroke_signs"),
    ("sudden weakness down one side of my body", "stroke_signs"),
    ("think i had a mini stroke last night, it passed after 20 mins", "stroke_signs"),
    ("I had a TIA on monday and now my back is numb", "stroke_signs"),
    ("pt has L facial droop and dysarthria", "stroke_signs"),
    ("R sided hemiparesis and expressive dysphasia", "stroke_signs"),
    ("she can't lift both arms and her speech is slurred", "stroke_signs"),
    # sudden loss of sight, double vision, sudden loss of balance
    ("suddenly seeing double", "sudden_vision_or_balance_loss"),
    ("lost the sight in my left eye for five minutes", "sudden_vision_or_balance_loss"),
    ("like a blind was pulled down over my right eye", "sudden_vision_or_balance_loss"),
    ("all of a sudden I lost my balance and kept veering to the left", "sudden_vision_or_balance_loss"),
    ("pt reports diplopia since waking", "sudden_vision_or_balance_loss"),
    # chest pain, pressure, heaviness, and indigestion that is not behaving
    ("crushing pain in my chest", "chest_pain"),
    ("chest feels tight and heavy", "chest_pain"),
    ("like there's an elephant parked on my chest", "chest_pain"),
    ("feels like someone is sitting on my chest", "chest_pain"),
    ("pressure in the middle of my chest going down my left arm", "chest_pain"),
    ("indigestion that won't settle, gaviscon does nothing", "chest_pain"),
    ("heavyness in my chest", "chest_pain"),
    ("chest pian since an hour", "chest_pain"),
    ("central chest pain for 30 mins", "chest_pain"),
    # arm, jaw or neck pain
    ("ache in my jaw and left arm", "arm_or_jaw_pain"),
    ("my left arm feels heavy and achy", "arm_or_jaw_pain"),
    ("pain going up into my jaw", "arm_or_jaw_pain"),
    # sweating, clammy, pale, shaky, feeling sick with the pain
    ("I'm pale and sweaty", "cold_sweat"),
    ("broke out in a cold sweat with the pain", "cold_sweat"),
    ("hes gone grey and clammy", "cold_sweat"),
    ("sweating and shaking, i'm diabetic", "cold_sweat"),
    ("feel sick with the chest pain", "cold_sweat"),
    ("sweating buckets with this back pain", "cold_sweat"),
    # breathing
    ("I can't breathe properly", "breathing_difficulty"),
    ("im struggling to breath", "breathing_difficulty"),
    ("can't catch my breath", "breathing_difficulty"),
    ("c/o SOB and chest pain", "breathing_difficulty"),
    ("he's gasping for air", "breathing_difficulty"),
    ("my legs are weak and now I'm struggling to breathe", "breathing_difficulty"),
    ("RR 32, sats 89% on air", "breathing_difficulty"),
    # sudden severe tummy pain
    ("sudden severe pain in my tummy", "severe_abdominal_pain"),
    ("agonising stomach pain came on out of nowhere", "severe_abdominal_pain"),
    ("doubled over with belly pain", "severe_abdominal_pain"),
    ("my tummy is in agony", "severe_abdominal_pain"),
    # known aortic disease
    ("I have Marfan syndrome", "known_aortic_disease"),
    ("known AAA under surveillance", "known_aortic_disease"),
    ("had an aortic valve replacement in 2019", "known_aortic_disease"),
    ("they found an aneurysm in my aorta last year", "known_aortic_disease"),
    ("I have a triple A", "known_aortic_disease"),
    ("I had surgery on my aorta in 2020", "known_aortic_disease"),
    # head or neck injury
    ("banged my head on a cupboard yesterday", "head_or_neck_injury"),
    ("fell down the stairs and hit my head", "head_or_neck_injury"),
    ("was knocked out for a minute playing rugby", "head_or_neck_injury"),
    ("got whiplash in a car crash on monday", "head_or_neck_injury"),
    ("dived into the shallow end and hit my head on the bottom", "head_or_neck_injury"),
    ("fell of the trampoline and landed on my neck", "head_or_neck_injury"),
    ("hurt my neck in a rugby tackle saturday", "head_or_neck_injury"),
    ("his head hit the windscreen", "head_or_neck_injury"),
    ("I've got concussion after a fall", "head_or_neck_injury"),
    # a cold, pale, blue or mottled limb
    ("my right foot has gone cold and white", "cold_pale_limb"),
    ("his leg is cold to touch and mottled", "cold_pale_limb"),
    ("my toes have turned blue and my foot is freezing cold", "cold_pale_limb"),
    ("can't feel a pulse in her foot", "cold_pale_limb"),
    ("my foot went white and cold suddenly and it's agony", "cold_pale_limb"),
    # confusion and drowsiness
    ("dad is confused and doesnt know where he is", "confusion"),
    ("she's very drowsy and hard to wake", "confusion"),
    ("he's talking nonsense", "confusion"),
    ("he isn't making sense", "confusion"),
    ("she's not herself, really confused and sleepy", "confusion"),
    ("GCS 13", "confusion"),
    # signs of sepsis
    ("his skin is mottled", "severe_illness_signs"),
    ("a purple rash that doesnt fade when I press a glass on it", "severe_illness_signs"),
    ("i feel like im going to die", "severe_illness_signs"),
    ("her lips have gone blue", "severe_illness_signs"),
    ("I have not been producing any urine since yesterday", "severe_illness_signs"),
    # thyroid or parathyroid operation
    ("had my thyroid out two weeks ago", "recent_neck_surgery"),
    ("thyroidectomy 10 days ago", "recent_neck_surgery"),
    ("I had a parathyroid operation last week", "recent_neck_surgery"),
    ("I had half my thyroid removed on tuesday", "recent_neck_surgery"),
    # hand or foot spasm
    ("my hands are cramping up and my fingers curl in", "hand_or_foot_spasm"),
    ("fingers locked into a claw", "hand_or_foot_spasm"),
    ("my hands went into a claw shape", "hand_or_foot_spasm"),
    ("carpopedal spasm", "hand_or_foot_spasm"),
    # settling with slow breathing
    ("the tingling goes when I slow my breathing down", "settles_with_slow_breathing"),
    ("it settles if I breathe into a paper bag", "settles_with_slow_breathing"),
    ("if I breathe slowly it settles", "settles_with_slow_breathing"),
    ("breathing exercises make it go", "settles_with_slow_breathing"),
    ("it calms down when I slow my breathing", "settles_with_slow_breathing"),
    # recent spinal procedure
    ("had an epidural steroid injection two weeks ago", "recent_spinal_procedure"),
    ("i had a discectomy last month", "recent_spinal_procedure"),
    ("lumbar puncture on friday", "recent_spinal_procedure"),
    ("had a steroid injection in my back last week", "recent_spinal_procedure"),
    ("had an epidural for my c-section 10 days ago", "recent_spinal_procedure"),
    # fainting, collapse and the near miss
    ("I nearly passed out", "fainting_or_collapse"),
    ("almost fainted at the shops", "fainting_or_collapse"),
    ("keeled over in the garden", "fainting_or_collapse"),
    ("found her on the floor", "fainting_or_collapse"),
    # the findings that already existed, in the emergency notes' kinds of words
    ("tingly lips and fingers when I panic", "perioral_tingling"),
    ("hands and feet are numb", "hands_and_feet_tingling"),
    ("the tingling is creeping up from my feet", "ascending_weakness"),
    ("numb from my belly button down", "sensory_level"),
    ("like a tight band round my chest like I'm wearing a corset", "sensory_level"),
    ("I can't feel anything below my waist", "sensory_level"),
    ("paralysed from the waist down", "sensory_level"),
    ("i'm a type 2 diabetic", "diabetes"),
    ("burning up and shivering", "fever"),
    ("my legs won't hold me up", "bilateral_leg_weakness"),
    ("both legs gone", "bilateral_leg_weakness"),
    ("my legs feel like lead", "bilateral_leg_weakness"),
]


@pytest.mark.parametrize(("text", "finding"), PRESENT)
def test_emergency_words_are_read(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is True, text


DENIED = [
    ("no slurred speech", "stroke_signs"),
    ("No facial droop, no arm drift", "stroke_signs"),
    ("no double vision or loss of balance", "sudden_vision_or_balance_loss"),
    ("no chest pain", "chest_pain"),
    ("denies chest pain or sob", "breathing_difficulty"),
    ("not short of breath", "breathing_difficulty"),
    ("not clammy", "cold_sweat"),
    ("no confusion", "confusion"),
    ("no LOC", "fainting_or_collapse"),
    ("never fainted", "fainting_or_collapse"),
    ("no recent spinal injections", "recent_spinal_procedure"),
    ("denies thyroid surgery", "recent_neck_surgery"),
    ("no hand cramps", "hand_or_foot_spasm"),
    ("no history of AAA", "known_aortic_disease"),
    ("no head injury", "head_or_neck_injury"),
]


@pytest.mark.parametrize(("text", "finding"), DENIED)
def test_negated_emergency_words_answer_no(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is False, text


NOT_PRESENT = [
    # negations that leave the question open
    ("denies slurred speech", "stroke_signs"),
    ("didn't hit my head", "head_or_neck_injury"),
    ("it doesn't settle when I slow my breathing", "settles_with_slow_breathing"),
    # someone else
    ("my mum had a stroke last year", "stroke_signs"),
    ("my dad had a heart attack in 2015", "chest_pain"),
    ("my grandad had a mini stroke years ago", "stroke_signs"),
    ("my husband had a TIA in 2019 and my back is sore", "stroke_signs"),
    ("my friend was knocked out at rugby", "head_or_neck_injury"),
    ("My back has been aching for a week. My sister has Marfan syndrome.", "known_aortic_disease"),
    ("my son bumped his head at school and my back is killing me", "head_or_neck_injury"),
    ("my mum had her thyroid out and now my back hurts", "recent_neck_surgery"),
    # hypothetical, safety-netting and questions
    ("if your face droops go to A&E", "stroke_signs"),
    ("if you get chest pain ring 999", "chest_pain"),
    ("if you bang your head go to A&E", "head_or_neck_injury"),
    ("watch out for slurred speech or a drooping face", "stroke_signs"),
    ("could this be a stroke?", "stroke_signs"),
    ("I'm scared it's a stroke", "stroke_signs"),
    # plans and the distant past
    ("waiting for back surgery", "recent_spinal_procedure"),
    ("I've been offered a spinal injection", "recent_spinal_procedure"),
    ("the surgeon has offered me a discectomy", "recent_spinal_procedure"),
    ("Referred to Spinal Surgery for opinion", "recent_spinal_procedure"),
    ("had an epidural when my son was born 12 years ago", "recent_spinal_procedure"),
    ("thyroid operation 20 years ago", "recent_neck_surgery"),
    ("hit my head in a car crash 20 years ago", "head_or_neck_injury"),
]


@pytest.mark.parametrize(("text", "finding"), NOT_PRESENT)
def test_other_people_hypotheticals_and_the_past_are_not_present(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is not True, text


LOOKALIKES = [
    # stroke look-alikes
    ("tingling around my mouth during a panic attack", "stroke_signs"),
    ("woke up with pins and needles in my arm after sleeping on it", "stroke_signs"),
    ("my arm went dead because I slept on it funny", "stroke_signs"),
    ("numb on the left side of my lower back", "stroke_signs"),
    ("tingling down the right side of my leg", "stroke_signs"),
    ("my face dropped when I saw the bill", "stroke_signs"),
    ("it was a stroke of luck the GP saw me", "stroke_signs"),
    ("when I stroke my thigh it feels numb", "stroke_signs"),
    ("I did 20 lengths of breast stroke and my back hurts", "stroke_signs"),
    ("i cant talk to my gp about this", "stroke_signs"),
    ("slurring after a few pints on saturday", "stroke_signs"),
    ("numbness in my arms and legs on both sides", "stroke_signs"),
    ("I can't lift my arm above my head because of the shoulder pain", "stroke_signs"),
    ("my face was numb for half an hour after the dentist", "stroke_signs"),
    # vision and balance look-alikes
    ("i feel a bit dizzy when I stand up", "sudden_vision_or_balance_loss"),
    ("my balance has slowly got worse over the months", "sudden_vision_or_balance_loss"),
    ("lost my balance on the ice and fell on my back", "sudden_vision_or_balance_loss"),
    ("seeing double after too many pints", "sudden_vision_or_balance_loss"),
    ("sudden agony in my back and I can't stand up straight", "sudden_vision_or_balance_loss"),
    # chest look-alikes: the heart as a figure of speech, a thoracic nerve, a level, a muscle
    ("my heart sank when I saw the scan", "chest_pain"),
    ("numbness wraps round my ribs to my chest like a band", "chest_pain"),
    ("pain from my back goes round to my chest", "chest_pain"),
    ("band of burning pain around my chest with a rash", "chest_pain"),
    ("numb from my chest down and back pain", "chest_pain"),
    ("had a chest infection last month", "chest_pain"),
    ("pulled a chest muscle at the gym and it's sore", "chest_pain"),
    ("i'll get it off my chest, my back is agony", "chest_pain"),
    ("my chest feels tight during a panic attack", "chest_pain"),
    # arm, jaw and neck look-alikes
    ("my boss is a pain in the neck", "arm_or_jaw_pain"),
    ("tingling in my left arm", "arm_or_jaw_pain"),
    # sweating and sickness with an everyday cause
    ("night sweats for weeks", "cold_sweat"),
    ("sweaty after the gym", "cold_sweat"),
    ("hot flushes from the menopause and sweating", "cold_sweat"),
    ("fever and sweating", "cold_sweat"),
    ("I'm sick of this back pain", "cold_sweat"),
    ("off sick from work with back pain", "cold_sweat"),
    ("legs feel shaky when I walk", "cold_sweat"),
    ("my foot has gone pale and cold", "cold_sweat"),
    # breathing look-alikes
    ("short walk makes my leg numb", "breathing_difficulty"),
    ("breathless going up the stairs", "breathing_difficulty"),
    ("feel like I can't breathe when I have a panic attack", "breathing_difficulty"),
    ("i sob every night with the pain", "breathing_difficulty"),
    ("the pain took my breath away", "breathing_difficulty"),
    ("it hurts when I take a deep breath", "breathing_difficulty"),
    # tummy look-alikes
    ("numb from my belly button down, severe back pain", "severe_abdominal_pain"),
    ("severe back pain that goes round into my stomach", "severe_abdominal_pain"),
    ("really bad period pains in my tummy", "severe_abdominal_pain"),
    # aorta look-alikes
    ("my AAA screening scan was normal", "known_aortic_disease"),
    # head and neck look-alikes
    ("my head is banging", "head_or_neck_injury"),
    ("hit the nail on the head there", "head_or_neck_injury"),
    ("slipped disc in my neck", "head_or_neck_injury"),
    ("fell asleep with my neck twisted", "head_or_neck_injury"),
    ("the tramadol knocks me out", "head_or_neck_injury"),
    ("the amitriptyline knocked me out last night", "head_or_neck_injury"),
    # limb look-alikes
    ("numb leg came out of the blue", "cold_pale_limb"),
    ("my fingers go white in the cold, raynauds", "cold_pale_limb"),
    ("my feet feel ice cold but they're warm to touch", "cold_pale_limb"),
    ("bruised my leg, it's black and blue", "cold_pale_limb"),
    ("my foot is a bit colder and paler than the other after walking", "cold_pale_limb"),
    # confusion look-alikes
    ("I'm confused about my scan results", "confusion"),
    ("the tablets make me drowsy", "confusion"),
    ("i'm so confused, is this sciatica?", "confusion"),
    ("the letter was confusing", "confusion"),
    # sepsis look-alikes
    ("I'm dying for a wee", "severe_illness_signs"),
    ("rash fades under a glass", "severe_illness_signs"),
    ("i havent had a wee since last night", "severe_illness_signs"),
    # everyday cramps, thyroid tablets, slight tingles
    ("cramp in my calf at night", "hand_or_foot_spasm"),
    ("writer's cramp in my hand", "hand_or_foot_spasm"),
    ("my thyroid is underactive", "recent_neck_surgery"),
    ("steroid injection in my shoulder", "recent_spinal_procedure"),
    ("worried about an epidural abscess", "recent_spinal_procedure"),
    ("a faint tingling in my toes", "fainting_or_collapse"),
    ("it goes when I walk around", "settles_with_slow_breathing"),
]


@pytest.mark.parametrize(("text", "finding"), LOOKALIKES)
def test_harmless_look_alikes_are_not_emergencies(text: str, finding: str) -> None:
    assert understand(text).answers.get(finding) is not True, text


def test_a_numb_bum_after_a_long_drive_reads_as_before() -> None:
    answers = understand("numb bum after a long drive, goes when I get out and walk about").answers
    assert answers.get("posture_related") is True
    emergencies = {
        "stroke_signs",
        "chest_pain",
        "cold_sweat",
        "breathing_difficulty",
        "cold_pale_limb",
        "confusion",
        "head_or_neck_injury",
        "severe_illness_signs",
    }
    assert not {f for f, v in answers.items() if v} & emergencies


def test_over_breathing_reads_as_its_harmless_pattern_not_a_stroke() -> None:
    text = (
        "When I panic my lips and fingers tingle on both sides; it settles within a few minutes "
        "once I slow my breathing down."
    )
    answers = understand(text).answers
    assert answers.get("perioral_tingling") is True
    assert answers.get("anxiety_or_panic") is True
    assert answers.get("settles_with_slow_breathing") is True
    assert answers.get("stroke_signs") is not True
    assert answers.get("breathing_difficulty") is not True


def test_a_relative_described_by_the_writer_carries_their_stroke_signs() -> None:
    reading = understand("My dad is 79. His face has dropped on one side and he can't get his words out.")
    mentions = [m for m in reading.reading.mentions if m.finding == "stroke_signs"] if reading.reading else []
    assert mentions and all(m.counted_as == "present" for m in mentions)
