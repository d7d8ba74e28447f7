"""The one rule for an email address a person types: what is accepted, how it is stored, why one is refused.

Every address an agent types (edit contact, resend to another address, fix and resend) and every
address an import brings goes through `address_normalise`. It checks the syntax with the
`email-validator` package and never looks anything up in DNS: there is no network on a form and
no latency to spend on one, and a domain that exists today may not tomorrow anyway.

Shape
    `address_normalise(raw) -> Address`: `Address.value` is the form to store; `Address.removed`
    names the invisible characters taken out of what was typed (empty when there were none).
    A refused address raises `AddressError`, whose `str()` is the sentence to show the agent.
    `address_for_sending(stored)` is what to hand the mail backend: the domain in its ASCII form.

Stored form, and why
    Surrounding spaces dropped, the local part in Unicode NFC as typed (its case is the mailbox
    owner's business: RFC 5321 §2.4), the domain lowercased and, when internationalised, in Unicode
    (`müller@bücher.de`, also when typed as `xn--bcher-kva.de`). That is what the agent and the
    guest read and type into the search box, and an address whose local part is not ASCII has no
    ASCII form anyway (it needs SMTPUTF8, RFC 6531). The domain's ASCII form (IDNA 2008, RFC 5891)
    is made when sending, by `address_for_sending`: Django's own backends (file, SMTP) would encode
    a Unicode domain with IDNA 2003, which maps `ß` to `ss` and so sends `a@straße.de` to another
    domain; anymail already uses IDNA 2008. A Unicode local part goes out as UTF-8: the email
    service must support SMTPUTF8 for it (Django's SMTP backend does not: it would write an RFC 2047
    encoded-word, which no mailbox is called).

Refused, each with its own sentence
    - nothing, or no @;
    - invisible and direction-control characters (zero-width space, non-joiner, joiner, the
      left-to-right and right-to-left marks and embeddings/overrides/isolates, the byte-order mark,
      the soft hyphen: Unicode's bidi controls, UAX #9, and default-ignorable format characters).
      They arrive with copy and paste, can't be seen, and make an address no email service accepts.
      `address_normalise` removes them and says so (`Address.removed`); a form refuses once and
      shows the cleaned address back, so the agent sees exactly what will be saved;
    - a local part longer than 64 characters or an address longer than 254 (RFC 5321 §4.5.3.1);
    - a domain without a dot (`localhost`, `example`), an IP literal (`[127.0.0.1]`), a special-use
      domain (`.local`, `.localhost`, `.invalid`, `.test`, `.onion`, `.arpa`: RFC 6761, RFC 6762,
      RFC 7686): no email service delivers to them;
    - anything else `email-validator` refuses (two dots in a row, a space, a quoted local part …),
      with its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import idna
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

# Invisible formatting and bidi controls (UAX #9 explicit directional formatting characters, plus
# the zero-width characters, the byte-order mark and the soft hyphen). Each looks like nothing.
INVISIBLE_CHARACTERS = {
    "\u00ad": "soft hyphen",
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u202a": "left-to-right embedding",
    "\u202b": "right-to-left embedding",
    "\u202c": "pop directional formatting",
    "\u202d": "left-to-right override",
    "\u202e": "right-to-left override",
    "\u2060": "word joiner",
    "\u2066": "left-to-right isolate",
    "\u2067": "right-to-left isolate",
    "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
    "\ufeff": "byte-order mark",
}
_INVISIBLE = re.compile("[" + "".join(INVISIBLE_CHARACTERS) + "]")

LOCAL_PART_MAX = 64  # RFC 5321 §4.5.3.1.1
ADDRESS_MAX = 254  # RFC 5321 §4.5.3.1.3 (a 256-octet path less its angle brackets)


class AddressError(ValueError):
    """An address no email service would deliver to; the text says why, for the agent."""


@dataclass(frozen=True)
class Address:
    value: str
    removed: tuple[str, ...] = field(default=())


def address_normalise(raw: str) -> Address:
    """The address to store for what was typed, or AddressError with the reason to show."""
    typed = raw.strip()
    removed = tuple(dict.fromkeys(INVISIBLE_CHARACTERS[c] for c in _INVISIBLE.findall(typed)))
    address = _INVISIBLE.sub("", typed).strip()
    if not address:
        raise AddressError("Enter an email address.")
    if "@" not in address:
        raise AddressError(f"“{address}” has no @: an email address looks like name@example.com.")
    local, _, domain = address.rpartition("@")
    if len(local) > LOCAL_PART_MAX:
        raise AddressError(
            f"The part before the @ is {len(local)} characters long; email services accept at most {LOCAL_PART_MAX}."
        )
    if len(address) > ADDRESS_MAX:
        raise AddressError(
            f"The address is {len(address)} characters long; email services accept at most {ADDRESS_MAX}."
        )
    if domain.startswith("["):
        raise AddressError(
            f"“{domain}” is an IP address: email services deliver only to a domain name, such as example.com."
        )
    if domain and "." not in domain.strip("."):
        raise AddressError(
            f"“{domain}” is not a domain on the internet: an email address needs a domain with a dot, such as example.com."
        )
    try:
        checked = validate_email(address, check_deliverability=False, strict=True)
    except EmailNotValidError as error:
        message = str(error)
        if "special-use or reserved" in message:
            raise AddressError(f"“{domain}” is a reserved domain that can't receive email from the internet.") from None
        raise AddressError(f"“{address}” is not a valid email address. {message}") from None
    return Address(value=checked.normalized, removed=removed)


def address_for_sending(address: str) -> str:
    """The stored address with its domain in ASCII (IDNA 2008), as every mail backend needs it.

    Never raises: an address stored before these rules is handed on as it is, for the email
    service to accept or refuse.
    """
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return address


def address_validate(value: str) -> None:
    """The rule as a Django validator, for model fields and admin forms: refuses what would be normalised away."""
    try:
        address = address_normalise(value)
    except AddressError as error:
        raise ValidationError(str(error), code="invalid") from None
    if address.removed:
        raise ValidationError(invisible_message(address), code="invisible")


def invisible_message(address: Address) -> str:
    names = ", ".join(address.removed)
    return (
        f"The address had an invisible character in it ({names}), probably pasted with it. "
        f"It has been removed: check “{address.value}” and confirm again."
    )
