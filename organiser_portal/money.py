"""Money in one place: each currency's minor unit, rounding, minor-unit integers and display.

An amount is a `Decimal` in the currency's major unit (`Decimal("12.50")` with "EUR" is twelve euros fifty),
next to an ISO 4217 code in capitals ("EUR", "JPY", "KWD"). How many decimals a currency has comes from the
Unicode CLDR data that `babel` ships (EUR 2, JPY 0, KWD 3), never from a table of our own. Floats are refused
everywhere with a TypeError: a float can't hold most amounts exactly (0.1 + 0.2 != 0.3).

Every function raises `UnknownCurrency` (a ValueError) for a code babel doesn't know, such as "XYZ", "eur"
or "": babel itself would quietly treat it as a two-decimal currency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Literal

from babel import Locale
from babel.numbers import NumberPattern, format_currency, get_currency_precision, is_currency, parse_pattern
from django.conf import settings
from django.utils.translation import get_language

__all__ = [
    "UnknownCurrency",
    "fits_minor_unit",
    "from_minor",
    "minor_units",
    "money_format",
    "money_round",
    "to_minor",
]


class UnknownCurrency(ValueError):
    """A currency code that is not an ISO 4217 code in capitals known to babel's CLDR data."""


@cache
def minor_units(currency: str) -> int:
    """How many decimals the currency's minor unit has: 2 for "EUR" (cents), 0 for "JPY", 3 for "KWD" (fils).

    Raises UnknownCurrency for a code that is not an ISO 4217 code in capitals ("XYZ", "eur").
    """
    if not is_currency(currency):
        raise UnknownCurrency(f"Unknown currency code {currency!r}: expected an ISO 4217 code in capitals, like 'EUR'.")
    return get_currency_precision(currency)


@cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))  # Decimal("0.01") for EUR, Decimal("1") for JPY


def _checked(amount: Decimal) -> Decimal:
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise ValueError(f"An amount of money must be a finite number, not {amount}.")
        return amount
    if isinstance(amount, float):
        raise TypeError(
            f"Amounts of money must be Decimal, not the float {amount!r}: a float can't hold most amounts exactly. "
            f"Pass Decimal({str(amount)!r}) instead."
        )
    raise TypeError(f"Amounts of money must be Decimal, not {type(amount).__name__}.")


def money_round(amount: Decimal, currency: str) -> Decimal:
    """The amount rounded to the currency's minor unit, halves away from zero (ROUND_HALF_UP).

    `money_round(Decimal("0.125"), "EUR")` is `Decimal("0.13")`, `Decimal("-0.125")` gives `Decimal("-0.13")`
    (a refund rounds like the payment it mirrors), and `money_round(Decimal("1199.5"), "JPY")` is
    `Decimal("1200")`. The result always has exactly the currency's number of decimals.

    Raises TypeError for anything but a Decimal (floats included), ValueError for NaN or infinity, and
    UnknownCurrency for an unknown code.
    """
    return _checked(amount).quantize(_quantum(currency), rounding=ROUND_HALF_UP)


def fits_minor_unit(amount: Decimal, currency: str) -> bool:
    """Whether the amount is a whole number of the currency's minor unit: `Decimal("12.50")` and `Decimal("12.5")`
    are for EUR, `Decimal("12.505")` is not; for JPY only whole yen (`Decimal("1200")`, `Decimal("1200.00")`).
    Raises like `money_round`."""
    return money_round(amount, currency) == amount


def to_minor(amount: Decimal, currency: str) -> int:
    """The amount as a whole number of minor units, the form payment providers such as Stripe take.

    `to_minor(Decimal("12.50"), "EUR")` is 1250 (cents), `to_minor(Decimal("1200"), "JPY")` is 1200 (yen),
    `to_minor(Decimal("1.5"), "KWD")` is 1500 (fils). The amount is first rounded like `money_round`.
    CLDR's minor units are the ISO ones; a provider may have its own exceptions for a few currencies, which its
    integration must handle. Raises like `money_round`.
    """
    return int(money_round(amount, currency).scaleb(minor_units(currency)))


def from_minor(units: int, currency: str) -> Decimal:
    """A whole number of minor units as an amount: `from_minor(1250, "EUR")` is `Decimal("12.50")`.

    The result has exactly the currency's number of decimals (`from_minor(1200, "JPY")` is `Decimal("1200")`),
    so `from_minor(to_minor(x, c), c) == money_round(x, c)`. Raises TypeError for anything but an int (a bool,
    a float or a Decimal included) and UnknownCurrency for an unknown code.
    """
    if not isinstance(units, int) or isinstance(units, bool):
        raise TypeError(f"Minor units must be an int, not {type(units).__name__} {units!r}.")
    return Decimal(units).scaleb(-minor_units(currency))


@cache
def _locale(language: str) -> Locale:
    # Django's language codes ("en-gb", "zh-hans") and babel's ("en_GB") name the same CLDR locales.
    return Locale.parse(language.replace("-", "_"))


@cache
def _number_pattern(locale: Locale, decimals: int) -> NumberPattern:
    """The locale's own digit grouping with exactly `decimals` decimals, parsed once."""
    grouping = locale.decimal_formats[None].pattern.split(";")[0].split(".")[0]  # "#,##0", "#,##,##0" in India
    return parse_pattern(f"{grouping}.{'0' * decimals}" if decimals else grouping)


def money_format(
    amount: Decimal,
    currency: str,
    *,
    locale: str | None = None,
    style: Literal["symbol", "code"] = "symbol",
) -> str:
    """The amount as text for a page, a PDF or an email, rounded like `money_round`, with babel's CLDR data.

    `locale` is a Django language code ("en", "en-gb", "de") or a babel one ("de_CH"); by default the active
    language (`get_language()`), else settings.LANGUAGE_CODE. The styles:

    - "symbol", the locale's own way of writing money: `money_format(Decimal("12.5"), "EUR", locale="en")` is
      "€12.50", with "de" it is "12,50\\xa0€", and 1200 "JPY" is "¥1,200" in "en".
    - "code", the amount in the locale's digits with the ISO code after a no-break space: "12.50\\xa0EUR" in
      "en", "12,50\\xa0EUR" in "de", "1,200\\xa0JPY". Tables use it: the figures line up and "$" or "kr" can't be
      mistaken for another country's dollar or crown.

    Returns plain text (not HTML-escaped). Raises like `money_round`, ValueError for another style, and
    babel.UnknownLocaleError for a locale that CLDR doesn't know.
    """
    rounded = money_round(amount, currency)
    language = _locale(locale or get_language() or settings.LANGUAGE_CODE)
    if style == "symbol":
        return format_currency(rounded, currency, locale=language)
    if style == "code":
        # Not babel's "¤¤" pattern: it looks up the currency's names on every call, and tables show many amounts.
        return f"{_number_pattern(language, minor_units(currency)).apply(rounded, language)}\xa0{currency}"
    raise ValueError(f"Unknown money style {style!r}: use 'symbol' or 'code'.")
