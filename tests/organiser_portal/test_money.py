"""organiser_portal.money: minor units from CLDR, rounding half up, minor-unit integers, and text per locale."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from organiser_portal.models import Event
from organiser_portal.money import UnknownCurrency, from_minor, minor_units, money_format, money_round, to_minor

CURRENCIES = ["EUR", "JPY", "KWD", "USD", "CLP", "BHD"]


@pytest.mark.parametrize(("currency", "units"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("USD", 2), ("CLP", 0)])
def test_minor_units_come_from_cldr(currency, units):
    assert minor_units(currency) == units


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        # Each of these would round the other way half-to-even (Decimal's and babel's default).
        ("0.125", "EUR", "0.13"),
        ("-0.125", "EUR", "-0.13"),
        ("2.5", "JPY", "3"),
        ("1199.5", "JPY", "1200"),
        ("1.0005", "KWD", "1.001"),
        # Already exact, or below the half: only the number of decimals changes.
        ("12.5", "EUR", "12.50"),
        ("12.124999", "EUR", "12.12"),
        ("1200.00", "JPY", "1200"),
        ("7", "KWD", "7.000"),
    ],
)
def test_money_round_rounds_half_up_to_the_minor_unit(amount, currency, rounded):
    result = money_round(Decimal(amount), currency)
    assert str(result) == rounded  # the value and the number of decimals


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("12.50", "EUR", 1250), ("0.005", "EUR", 1), ("-3.20", "EUR", -320), ("1200", "JPY", 1200), ("1.5", "KWD", 1500)],
)
def test_to_and_from_minor_units(amount, currency, units):
    assert to_minor(Decimal(amount), currency) == units
    assert from_minor(units, currency) == money_round(Decimal(amount), currency)


def test_from_minor_gives_the_currencys_decimals():
    assert str(from_minor(1250, "EUR")) == "12.50"
    assert str(from_minor(0, "EUR")) == "0.00"
    assert str(from_minor(1200, "JPY")) == "1200"
    assert str(from_minor(7, "KWD")) == "0.007"


@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6),
    currency=st.sampled_from(CURRENCIES),
)
def test_minor_units_round_trip_gives_the_rounded_amount(amount, currency):
    back = from_minor(to_minor(amount, currency), currency)
    assert back == money_round(amount, currency)
    assert back.as_tuple().exponent == -minor_units(currency)


@given(units=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(CURRENCIES))
def test_an_integer_of_minor_units_survives_the_round_trip(units, currency):
    assert to_minor(from_minor(units, currency), currency) == units


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "text"),
    [
        ("12.5", "EUR", "en", "€12.50"),
        ("12.5", "EUR", "de", "12,50\xa0€"),
        ("1234567.891", "EUR", "en-gb", "€1,234,567.89"),
        ("1234567.891", "EUR", "de", "1.234.567,89\xa0€"),
        ("1200", "JPY", "en", "¥1,200"),
        ("1199.5", "JPY", "en", "¥1,200"),
        ("0.125", "EUR", "en", "€0.13"),  # babel alone would write €0.12
        ("-3.2", "EUR", "en", "-€3.20"),
        ("12.5", "USD", "en_GB", "US$12.50"),
    ],
)
def test_money_format_in_the_locales_own_way(amount, currency, locale, text):
    assert money_format(Decimal(amount), currency, locale=locale) == text


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "text"),
    [
        ("12.5", "EUR", "en", "12.50\xa0EUR"),
        ("1234567.891", "EUR", "en-gb", "1,234,567.89\xa0EUR"),
        ("1234567.891", "EUR", "de", "1.234.567,89\xa0EUR"),
        ("1200", "JPY", "en", "1,200\xa0JPY"),
        ("1.2345", "KWD", "en", "1.235\xa0KWD"),
        ("1.2345", "KWD", "de", "1,235\xa0KWD"),
        ("-3.2", "EUR", "en", "-3.20\xa0EUR"),
    ],
)
def test_money_format_with_the_currency_code(amount, currency, locale, text):
    assert money_format(Decimal(amount), currency, locale=locale, style="code") == text


def test_money_format_follows_the_active_language():
    with translation.override("de"):
        assert money_format(Decimal("12.5"), "EUR") == "12,50\xa0€"
    with translation.override("en-gb"):
        assert money_format(Decimal("12.5"), "EUR") == "€12.50"


@pytest.mark.parametrize("code", ["XYZ", "eur", "", "EURO"])
def test_an_unknown_currency_is_refused_everywhere(code):
    for call in (
        lambda: minor_units(code),
        lambda: money_round(Decimal("1"), code),
        lambda: to_minor(Decimal("1"), code),
        lambda: from_minor(100, code),
        lambda: money_format(Decimal("1"), code, locale="en"),
    ):
        with pytest.raises(UnknownCurrency, match=f"Unknown currency code '{code}'"):
            call()
    assert issubclass(UnknownCurrency, ValueError)


def test_a_float_is_refused_with_a_clear_message():
    with pytest.raises(TypeError, match=r"not the float 12\.5.*Decimal\('12\.5'\)"):
        money_round(12.5, "EUR")
    with pytest.raises(TypeError, match="float"):
        to_minor(0.1, "EUR")
    with pytest.raises(TypeError, match="float"):
        money_format(0.1, "EUR", locale="en")


@pytest.mark.parametrize("units", [12.5, Decimal("1250"), "1250", True])
def test_from_minor_takes_only_an_int(units):
    with pytest.raises(TypeError, match="Minor units must be an int"):
        from_minor(units, "EUR")


@pytest.mark.parametrize("amount", [1250, "12.50", None])
def test_other_types_than_decimal_are_refused(amount):
    with pytest.raises(TypeError, match="must be Decimal"):
        money_round(amount, "EUR")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_amount_is_refused(amount):
    with pytest.raises(ValueError, match="finite"):
        money_round(Decimal(amount), "EUR")


def test_an_unknown_style_is_refused():
    with pytest.raises(ValueError, match="Unknown money style"):
        money_format(Decimal("1"), "EUR", locale="en", style="name")


@pytest.mark.parametrize("code", ["EUR", "JPY", "USD"])
def test_an_event_takes_a_currency_its_amounts_can_be_stored_in(code):
    Event._meta.get_field("currency").run_validators(code)


@pytest.mark.parametrize(
    ("code", "message"), [("XYZ", "Unknown currency code 'XYZ'"), ("eur", "Unknown"), ("KWD", "KWD amounts have 3")]
)
def test_an_event_refuses_a_currency_its_amounts_cant_be_stored_in(code, message):
    with pytest.raises(ValidationError, match=message):
        Event._meta.get_field("currency").run_validators(code)
