"""The signed link of a personalisation request: `/attendees/<token>/`, where the customer fills in the attendee
details of their order's tickets without a login.

The token is the PersonalisationLink's id signed with SECRET_KEY under its own salt (django.core.signing, with a
timestamp), so it can't be guessed, altered or made from another signed value of the portal. The row says
whether it still works (expiry, revocation) and for which order: the page never shows another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import PersonalisationLink

SALT = "tickets.links.personalisation"
# A link works this long after it is sent, and never after the event has ended.
VALID_FOR = timedelta(days=14)


class LinkRefused(Exception):
    """The link can't be used: its text says why, in the words the public page shows (see `reason`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "tampered", "expired" or "revoked"


def link_expiry(event_ends_at: datetime, now: datetime | None = None) -> datetime:
    """When a link sent now stops working: after VALID_FOR, or when the event ends if that is sooner."""
    return min((now or timezone.now()) + VALID_FOR, event_ends_at)


def link_token(link: PersonalisationLink) -> str:
    return signing.dumps(link.pk, salt=SALT)


def link_url(link: PersonalisationLink) -> str:
    """The link as the email prints it, on PORTAL_URL (the worker renders outside any request)."""
    return f"{settings.PORTAL_URL}{reverse('personalise_public', kwargs={'token': link_token(link)})}"


def link_for_token(token: str, *, now: datetime | None = None) -> PersonalisationLink:
    """The link a token names, with its order, event and organisation. LinkRefused("tampered") for a token the
    portal didn't sign (or for a link that no longer exists), "expired" past its expiry, "revoked" once revoked."""
    try:
        link_id = signing.loads(token, salt=SALT, max_age=VALID_FOR + timedelta(days=1))
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("tampered") from None
    if not isinstance(link_id, int):
        raise LinkRefused("tampered")
    link = PersonalisationLink.objects.select_related("order__event", "order__organisation").filter(pk=link_id).first()
    if link is None:
        raise LinkRefused("tampered")
    now = now or timezone.now()
    if link.revoked_at is not None:
        raise LinkRefused("revoked")
    if now >= link.expires_at:
        raise LinkRefused("expired")
    return link
