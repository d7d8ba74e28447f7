import pytest

from organiser_portal.ids import parse_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (12, 12), ("007", 7), ("9" * 18, int("9" * 18))]
    + [(bad, None) for bad in ("", "²", "١٢", "１２", "-1", " 1", "1.0", "9" * 19, None, True, [1], "\x00")],
)
def test_an_id_is_ascii_digits_within_bigint(value, expected):
    assert parse_id(value) == expected
