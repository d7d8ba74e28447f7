"""Phone numbers as people write them, reduced to one form (E.164, "+4915123456789") to compare.

Parsing follows Google's libphonenumber through its Python port `phonenumbers`
(https://github.com/daviddrysdale/python-phonenumbers): a national number ("0151 23456789") needs the
country it was written in, the region; an international one ("+49 …", "0049 …" from a country whose
international prefix is 00) carries its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from django.core.exceptions import ValidationError

DEFAULT_COUNTRY = "DE"
# What people put between the digits: spaces, dashes, dots, slashes, brackets ("+49 (0)151 …").
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-()/.]+$")
MIN_DIGITS = 6  # fewer digits are a fragment of something else (a house number, a postcode)


def phone_e164(raw: str, region: str) -> str:
    """`raw` in E.164 ("+4915123456789"), read as written in `region` (ISO 3166-1 alpha-2, "DE") unless it
    is international; '' when it is empty, has fewer than MIN_DIGITS digits or is not a possible number
    (too short or too long for its country, letters, …). Never raises."""
    raw = raw.strip()
    # A phone field holds 40 characters; fewer than MIN_DIGITS digits are a short code at best ("+49 12"
    # is "possible" to libphonenumber), never a buyer's number.
    if not raw or len(raw) > 64 or sum(c.isdigit() for c in raw) < MIN_DIGITS:
        return ""
    possible = ""
    # "+49 (0) 0980 …": the "(0)" and the trunk zero after it both written; without the "(0)" the number is valid.
    for text in (raw, raw.replace("(0)", " ")) if "(0)" in raw else (raw,):
        number = _parse(text, region.upper() or DEFAULT_COUNTRY)
        if number is None or not phonenumbers.is_possible_number(number):
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            return e164
        possible = possible or e164
    return possible


def phone_validate(raw: str, region: str) -> str:
    """`raw` stripped, when it is empty or a number `phone_e164` can read (as written in `region` unless it is
    international): what a contact form keeps. Raises ValidationError saying why otherwise."""
    raw = raw.strip()
    if raw and not phone_e164(raw, region):
        country = (region or DEFAULT_COUNTRY).upper()
        raise ValidationError(
            f"{raw} is not a phone number (for {country} without a country code; write +… for another country).",
            code="invalid_phone",
        )
    return raw


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def looks_like_phone(query: str) -> bool:
    """Whether a search query reads as a phone number: digits and the separators people write, at least
    MIN_DIGITS digits."""
    return bool(_PHONE_LIKE.match(query)) and sum(c.isdigit() for c in query) >= MIN_DIGITS


def phone_candidates(query: str, regions: Iterable[str]) -> list[str]:
    """The E.164 numbers `query` may mean, read as written in each of `regions` (the organisation's country
    and its events'), sorted; "00…" also read as "+…" for a caller from a country whose international
    prefix is 00 when the region's is not (the United States dial 011). Empty when no reading is possible."""
    query = query.strip()
    found = {phone_e164(query, region) for region in {r.upper() for r in regions if r} or {DEFAULT_COUNTRY}}
    digits = re.sub(r"\D", "", query)
    if digits.startswith("00") and not query.startswith("+"):
        found.add(phone_e164(f"+{digits[2:]}", DEFAULT_COUNTRY))
    found.discard("")
    # A foreign number written nationally at checkout ("06 18 02 21 06" for +33 6 18 02 21 06) was read as a
    # number of the event's country: its national spelling, read in each region, meets that reading too.
    for e164 in list(found):
        if (number := _parse(e164, None)) is not None and phonenumbers.is_valid_number(number):
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            found |= {phone_e164(national, region) for region in regions if region} - {""}
    return sorted(found)


def is_complete_number(query: str) -> bool:
    """Whether `query` is a whole phone number beyond doubt: written with its country code ("+49 …", "0049 …")
    and valid by libphonenumber's number plan for that country, not merely of a possible length ("+49 151
    234" is the start of a number). A national spelling ("0151 …") is never complete: its country is a guess."""
    query = query.strip()
    if not looks_like_phone(query) or not query.startswith(("+", "00")):
        return False
    try:
        number = phonenumbers.parse("+" + re.sub(r"\D", "", query).removeprefix("00"), None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def as_typed_variants(query: str) -> list[str]:
    """The spellings a number not parsed (or stored before it was) may be stored in: as typed, its digits,
    its digits after a +."""
    digits = re.sub(r"\D", "", query)
    return sorted({query.strip(), digits, f"+{digits}", re.sub(r"[^\d+]", "", query)} - {"", "+"})


def validate_country(code: str) -> None:
    """A country (ISO 3166-1 alpha-2, upper case) that phone numbers can be read as written in."""
    if code and (code != code.upper() or code not in phonenumbers.SUPPORTED_REGIONS):
        raise ValidationError(f"{code} is not a country code such as DE, AT or FR.", code="unknown_country")


def phone_international(e164: str) -> str:
    """An E.164 number ("+4915123456789") as people read it internationally ("+49 151 23456789"); `e164` as it
    is when it doesn't parse."""
    number = _parse(e164, None)
    if number is None:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_shown(raw: str, region: str) -> str:
    """A phone number as every page shows it: `raw` read as written in `region` (the event's country; ISO
    3166-1 alpha-2) unless it is international, in libphonenumber's international format ("0151 23456789" in
    DE: "+49 1512 3456789"); `raw` as typed (stripped) when it can't be read as a number. Never raises."""
    e164 = phone_e164(raw or "", region or DEFAULT_COUNTRY)
    return phone_international(e164) if e164 else (raw or "").strip()


SMS_NUMBER_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.PAGER,  # libphonenumber's type for some countries' mobile ranges
    }
)


def sms_number(raw: str, region: str) -> str:
    """`raw` as the E.164 number an SMS can go to, read as written in `region` unless it is international.

    Raises ValidationError (its message says why, for the form) when it is empty, not a valid number by the
    country's number plan, or a number that can't take an SMS (a landline, a toll-free or premium number)."""
    raw = raw.strip()
    if not raw:
        raise ValidationError("Enter the mobile number to send the SMS to.", code="required")
    number = _parse(raw, (region or DEFAULT_COUNTRY).upper())
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"{raw} is not a valid phone number (for {(region or DEFAULT_COUNTRY).upper()} without a country code; "
            "write +… for another country).",
            code="invalid",
        )
    if phonenumbers.number_type(number) not in SMS_NUMBER_TYPES:
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        raise ValidationError(f"{shown} is not a mobile number: it can't receive an SMS.", code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
