"""No patient text in logs; arbitrary text never crashes; negation never creates a red flag."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text import assess_text, understand

CANARY = "ZQXJ-canary-7731"


def test_no_input_text_reaches_any_log(caplog, capfd) -> None:  # type: ignore[no-untyped-def]
    from loguru import logger as loguru_logger

    sink: list[str] = []
    handler_id = loguru_logger.add(lambda m: sink.append(str(m)), level="TRACE")
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger().setLevel(logging.DEBUG)
            for text in (
                f"{CANARY} numb bum and cant pee",
                f"Pt denies {CANARY}. PMH: {CANARY}",
                f"{CANARY}\n- item\nPlan: {CANARY}",
            ):
                assess_text(text)
                understand(text)
    finally:
        loguru_logger.remove(handler_id)
    out, err = capfd.readouterr()
    assert CANARY not in caplog.text
    assert not any(CANARY in line for line in sink)
    assert CANARY not in err and CANARY not in out


RED_FLAGS = sorted(load_knowledge_base().red_flag_findings)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text: str) -> None:
    result = assess_text(text)
    assert result.text is not None
    for m in result.text.mentions:
        assert 0 <= m.start < m.end <= len(text)


PHRASES = {
    "saddle_anaesthesia": [
        "numbness around my back passage",
        "saddle anaesthesia",
        "numbness between my legs",
    ],
    "bladder_dysfunction": ["urinary retention", "trouble passing urine", "bladder problems"],
    "bowel_dysfunction": ["faecal incontinence", "bowel incontinence"],
    "bilateral_leg_weakness": ["weakness in both legs", "bilateral leg weakness"],
    "foot_drop": ["foot drop"],
    "fever": ["a fever"],
}
NEGATIONS = ["no", "denies", "without", "there is no", "I don't have", "never had", "nil"]
FILLER = st.sampled_from(["", "My back tingles after sitting. ", "45M. ", "Pt reports LBP. "])


@SETTINGS
@given(finding=st.sampled_from(sorted(PHRASES)), data=st.data(), prefix=FILLER, suffix=FILLER)
def test_inserting_a_negation_never_turns_a_red_flag_present(  # type: ignore[no-untyped-def]
    finding, data, prefix, suffix
) -> None:
    phrase = data.draw(st.sampled_from(PHRASES[finding]))
    negation = data.draw(st.sampled_from(NEGATIONS))
    negated = understand(f"{prefix}{negation} {phrase}. {suffix}")
    assert negated.answers.get(finding) is not True
    # and the same phrase without the negation is read as present (the test can fail)
    affirmed = understand(f"{prefix}I have {phrase}. {suffix}")
    assert affirmed.answers.get(finding) is True


@SETTINGS
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200),
    negation=st.sampled_from(NEGATIONS),
)
def test_negation_added_to_text_without_red_flags_adds_none(text: str, negation: str) -> None:
    before = {f for f, v in understand(text).answers.items() if v is True} & set(RED_FLAGS)
    after = {f for f, v in understand(f"{negation} {text}").answers.items() if v is True}
    assert after & set(RED_FLAGS) <= before
