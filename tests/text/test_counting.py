"""Stage 4, counting: each mention counts as present, absent or ignored, for a typed reason."""

from __future__ import annotations

import pytest

from backtriage.domain.note import SectionRole
from backtriage.text import understand
from backtriage.text.context import ContextAttributes, Experiencer
from backtriage.text.counting import CountedAs, CountReason, count


def _attrs(**changes: object) -> ContextAttributes:
    plain = ContextAttributes(
        negated=False, uncertain=False, historical=False, hypothetical=False, experiencer=Experiencer.PATIENT
    )
    return plain.model_copy(update=changes)


def _count(attrs: ContextAttributes, role: SectionRole | None = None, **flags: bool) -> CountReason:
    options = {"past_counts": False, "denies": False, "directly_negated": False} | flags
    return count(attrs, role, **options)


def test_only_an_affirmed_mention_counts_as_present() -> None:
    """The safety policy: present needs affirmed; denials and negations are absent; the rest is ignored."""
    assert {r for r in CountReason if r.counted_as is CountedAs.PRESENT} == {CountReason.AFFIRMED}
    assert {r for r in CountReason if r.counted_as is CountedAs.ABSENT} == {
        CountReason.NEGATED,
        CountReason.DENIAL,
    }


def test_reasons_are_codes_that_the_presentation_layer_words() -> None:
    """The API gives the reason as a code; the terminal and the page say it in words."""
    from backtriage.interfaces.presentation import words

    assert CountReason.AFFIRMED.value == "affirmed" and CountReason.ABOUT_FAMILY.value == "about_family"
    assert CountedAs.IGNORED == "ignored"
    for reason in CountReason:  # every code has words (an unworded one shows as the code)
        assert "_" not in words.count_reason(reason.value)
    assert words.count_reason("about_family") == "about a relative"


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        (_attrs(), CountReason.AFFIRMED),
        (_attrs(negated=True), CountReason.NEGATED),
        (_attrs(uncertain=True, negated=True), CountReason.UNCERTAIN),
        (_attrs(hypothetical=True, uncertain=True), CountReason.HYPOTHETICAL),
        (_attrs(experiencer=Experiencer.FAMILY, hypothetical=True), CountReason.ABOUT_FAMILY),
        (_attrs(experiencer=Experiencer.OTHER), CountReason.ABOUT_OTHER),
        (_attrs(historical=True), CountReason.PAST),
    ],
)
def test_the_first_reason_to_ignore_a_mention_wins(attrs: ContextAttributes, expected: CountReason) -> None:
    assert _count(attrs) is expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (SectionRole.MEDICATIONS, CountReason.IN_MEDICINES),
        (SectionRole.PROCEDURE, CountReason.IN_PROCEDURE),
        (SectionRole.INSTRUCTIONS, CountReason.IN_INSTRUCTIONS),
    ],
)
def test_sections_where_nothing_is_read_come_first(role: SectionRole, expected: CountReason) -> None:
    assert _count(_attrs(), role) is expected
    assert _count(_attrs(experiencer=Experiencer.FAMILY, negated=True), role) is expected


def test_other_sections_leave_the_mention_to_its_attributes() -> None:
    assert _count(_attrs(), SectionRole.PRESENTING) is CountReason.AFFIRMED
    assert _count(_attrs(historical=True), SectionRole.HISTORY) is CountReason.PAST


def test_a_past_mention_counts_for_a_finding_about_history() -> None:
    """ "History of breast cancer" is the finding; "sciatica 10 years ago" is not today's sciatica."""
    assert _count(_attrs(historical=True), past_counts=True) is CountReason.AFFIRMED
    assert _count(_attrs(historical=True), past_counts=False) is CountReason.PAST


def test_a_denial_is_absent_unless_a_negation_stands_just_before_it() -> None:
    assert _count(_attrs(), denies=True) is CountReason.DENIAL
    assert _count(_attrs(), denies=True, directly_negated=True) is CountReason.NEGATED_DENIAL
    assert CountReason.NEGATED_DENIAL.counted_as is CountedAs.IGNORED


def test_a_denial_supersedes_the_bare_mention_inside_it() -> None:
    """ "bladder and bowels normal" is one denial, not also a mention of bladder trouble."""
    found = understand("bladder and bowels normal")
    bladder = found.mentions_of("bladder_dysfunction")
    assert [(m.text, m.reason) for m in bladder] == [("bladder and bowels normal", CountReason.DENIAL.value)]
    assert found.answers["bladder_dysfunction"] is False
