import pytest

from backtriage.domain.case import Case, Sex
from backtriage.errors import InvalidInputError


def test_flat_shape_separates_demographics_from_answers() -> None:
    case = Case.from_mapping({"saddle_anaesthesia": True, "age": 45, "sex": "M", "fever": None})
    assert case.age == 45
    assert case.sex is Sex.MALE
    assert case.answers == {"saddle_anaesthesia": True, "fever": None}


def test_nested_shape_accepts_demographics_inside_or_outside_answers() -> None:
    outside = Case.from_mapping({"answers": {"fever": False}, "age": 30, "sex": "female"})
    inside = Case.from_mapping({"answers": {"fever": False, "age": 30, "sex": "female"}})
    assert outside == inside


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"age": 200}, "age"),
        ({"age": -1}, "age"),
        ({"age": 45.5}, "age"),
        ({"age": True}, "age"),
        ({"sex": "unknown-value"}, "sex"),
        ({"fever": "yes"}, "fever: answer must be true, false or null"),
        ({"fever": 1}, "fever"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_input_names_the_field(data: object, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        Case.from_mapping(data)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
