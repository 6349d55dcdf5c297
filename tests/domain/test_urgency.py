from backtriage.domain.urgency import UrgencyLevel


def test_levels_order_by_clinical_urgency_not_alphabet() -> None:
    assert UrgencyLevel.SELF_CARE < UrgencyLevel.ROUTINE < UrgencyLevel.URGENT < UrgencyLevel.EMERGENCY
    assert max(UrgencyLevel.URGENT, UrgencyLevel.ROUTINE) is UrgencyLevel.URGENT
    assert sorted(UrgencyLevel, reverse=True)[0] is UrgencyLevel.EMERGENCY


def test_values_are_the_public_names() -> None:
    assert [u.value for u in sorted(UrgencyLevel)] == ["self_care", "routine", "urgent", "emergency"]


def test_every_level_has_a_name_in_words_from_the_presentation_layer() -> None:
    from backtriage.interfaces.presentation import words

    names = [words.urgency_name(u) for u in UrgencyLevel]
    assert all(names) and len(set(names)) == len(names)
