"""The signed link of a customer account's verification email: `/verify-email/<token>/`, where the customer
confirms their address without a login.

The token is the account's id and its email address, signed with SECRET_KEY under its own salt
(django.core.signing, with a timestamp): it can't be guessed, altered or made from another signed value of the
portal, and it stops working after VALID_FOR or once the account's address has changed. Using it again after the
account is verified changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil

from .models import Customer

SALT = "guests.verification.customer"
VALID_FOR = timedelta(days=3)


class VerificationRefused(Exception):
    """The link can't be used. `reason`: "tampered" (not signed by the portal, or its account is gone),
    "expired" (older than VALID_FOR) or "changed" (the account's email address is no longer the one it confirms)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def verification_token(customer: Customer) -> str:
    return signing.dumps({"c": customer.pk, "e": customer.email.lower()}, salt=SALT, compress=True)


def verification_url(customer: Customer) -> str:
    """The link as the email prints it, on PORTAL_URL (the worker renders outside any request)."""
    return f"{settings.PORTAL_URL}{reverse('customer_verify', kwargs={'token': verification_token(customer)})}"


def valid_for_words() -> str:
    """How long a link works, in words ("3 days")."""
    now = timezone.now()
    return timeuntil(now + VALID_FOR, now)


def customer_for_token(token: str) -> Customer:
    """The account a token names, with its organisation; VerificationRefused otherwise (see its reasons)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise VerificationRefused("expired") from None
    except signing.BadSignature:
        raise VerificationRefused("tampered") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int) or not isinstance(data.get("e"), str):
        raise VerificationRefused("tampered")
    customer = Customer.objects.select_related("organisation").filter(pk=data["c"]).first()
    if customer is None:
        raise VerificationRefused("tampered")
    if customer.email.lower() != data["e"]:
        raise VerificationRefused("changed")
    return customer
