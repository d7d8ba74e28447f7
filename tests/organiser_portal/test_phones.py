"""organiser_portal.phones: every way a German mobile number is written meets the one E.164 form."""

import pytest

from organiser_portal.phones import as_typed_variants, looks_like_phone, phone_candidates, phone_e164, phone_shown

E164 = "+4915123456789"
SPELLINGS = (
    "015123456789",
    "0151 23456789",
    "+4915123456789",
    "0049 151 23456789",
    "+49 151 23456789",
    "0151-234 567 89",
    "(0151) 23456789",
    "+49 (0)151 23456789",
    "0151/23456789",
    "+49-151-23456789",
)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_reads_as_the_same_number(spelling):
    assert phone_e164(spelling, "DE") == E164
    assert looks_like_phone(spelling)
    assert E164 in phone_candidates(spelling, ["DE"])


def test_a_national_number_is_read_in_each_region_given():
    assert phone_e164("0664 1234567", "AT") == "+436641234567"
    assert phone_candidates("0664 1234567", ["DE", "AT"]) == sorted({"+436641234567", phone_e164("0664 1234567", "DE")})


def test_00_is_an_international_prefix_even_where_the_region_dials_011():
    assert E164 in phone_candidates("0049 151 23456789", ["US"])


@pytest.mark.parametrize("raw", ["", "12", "abc", "+49", "0" * 80, "+999 1234567"])
def test_what_is_no_possible_number_is_empty(raw):
    assert phone_e164(raw, "DE") == ""


def test_the_as_typed_variants_keep_numbers_that_do_not_parse_findable():
    assert as_typed_variants("+49 151 2345678") == ["+49 151 2345678", "+491512345678", "491512345678"]


def test_a_date_or_a_name_is_no_phone():
    assert not looks_like_phone("Anna") and not looks_like_phone("12 34") and not looks_like_phone("2026-11-30x")


@pytest.mark.parametrize(
    ("raw", "region", "shown"),
    [
        ("+49 151 23456789", "DE", "+49 1512 3456789"),
        ("0151 23456789", "DE", "+49 1512 3456789"),
        ("0151 99887766", "DE", "+49 1519 9887766"),
        ("+49 (0)151 23456789", "DE", "+49 1512 3456789"),
        ("+31945 194184", "DE", "+31 945194184"),  # possible, not valid: no grouping known
        ("0664 1234567", "AT", "+43 664 1234567"),
        ("call me", "DE", "call me"),
        ("  12 34 ", "DE", "12 34"),
    ],
)
def test_a_number_is_shown_in_one_international_form_or_as_typed(raw, region, shown):
    assert phone_shown(raw, region) == shown
