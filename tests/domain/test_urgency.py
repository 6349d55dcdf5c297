from backtriage.domain.urgency import UrgencyLevel


def test_levels_order_by_clinical_urgency_not_alphabet() -> None:
    assert UrgencyLevel.SELF_CARE < UrgencyLevel.ROUTINE < UrgencyLevel.URGENT < UrgencyLevel.EMERGENCY
    assert max(UrgencyLevel.URGENT, UrgencyLevel.ROUTINE) is UrgencyLevel.URGENT
    assert sorted(UrgencyLevel, reverse=True)[0] is UrgencyLevel.EMERGENCY


def test_values_are_the_public_names() -> None:
    assert [u.value for u in sorted(UrgencyLevel)] == ["self_care", "routine", "urgent", "emergency"]


def test_every_level_has_a_label() -> None:
    assert all(u.label for u in UrgencyLevel)
