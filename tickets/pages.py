"""The customer's tickets page: one public page per order, behind a signed link (no login), showing the order's
valid tickets with their QR codes and a PDF download.

The token is `[order id, Order.tickets_page_version]` signed with SECRET_KEY under its own salt
(django.core.signing), so it can't be guessed, altered or made from another signed value of the portal.
"New link" on the order page (`tickets_page_new_link`) raises the version: every link sent before stops working.
A link works until TICKETS_PAGE_DAYS_AFTER_EVENT days after its event ends (read from the event when the link is
opened, so a moved event moves its links' expiry too). Any link sent for the order works until then: the SMS,
the tickets email without PDF and "Find my tickets" each sign a link when they are rendered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.timeline import timeline_record
from organiser_portal.models import Event
from organiser_portal.permissions import Perm, require_perm
from organiser_portal.times import local_text

from .links import LinkRefused
from .models import Ticket

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SALT = "tickets.pages.tickets_page"


def tickets_page_expiry(event: Event) -> datetime:
    """When the event's tickets page links stop working: TICKETS_PAGE_DAYS_AFTER_EVENT days after it ends."""
    return event.ends_at + timedelta(days=settings.TICKETS_PAGE_DAYS_AFTER_EVENT)


def tickets_page_token(order: Order) -> str:
    """The signed token of the order's current link (about 55 URL-safe characters)."""
    return signing.Signer(salt=SALT).sign_object([order.pk, order.tickets_page_version])


def tickets_page_path(order: Order) -> str:
    return reverse("tickets_page", kwargs={"token": tickets_page_token(order)})


def tickets_page_url(order: Order) -> str:
    """The absolute URL of the order's current tickets page link, on PORTAL_URL (for emails and SMS, which are
    rendered outside any request): "https://portal.example.com/my-tickets/<token>/". Reads no database row."""
    return f"{settings.PORTAL_URL}{tickets_page_path(order)}"


def order_for_tickets_page(token: str, *, now: datetime | None = None) -> Order:
    """The order a token names, with its event and organisation. LinkRefused("tampered") for a token the portal
    didn't sign (or whose order no longer exists), "revoked" once a new link was made, "expired" past
    `tickets_page_expiry`."""
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        raise LinkRefused("tampered") from None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise LinkRefused("tampered")
    order_id, version = value
    order = Order.objects.select_related("event", "organisation").filter(pk=order_id).first()
    if order is None:
        raise LinkRefused("tampered")
    if version != order.tickets_page_version:
        raise LinkRefused("revoked")
    if (now or timezone.now()) >= tickets_page_expiry(order.event):
        raise LinkRefused("expired")
    return order


def tickets_page_refusal(order: Order, *, valid_tickets: int) -> str | None:
    """Why the page shows no ticket of this order (in the customer's words), or None when it shows them."""
    if order.status == Order.Status.CANCELLED:
        return "This order was cancelled: its tickets are no longer valid."
    if order.status == Order.Status.REFUNDED:
        return "This order was refunded: its tickets are no longer valid."
    if order.status != Order.Status.PAID:
        return "This order is not paid: it has no tickets."
    if order.tickets_held:
        return "Your tickets are not released yet: the organiser will send them to you."
    if valid_tickets == 0:
        return "This order has no valid ticket any more."
    return None


def current_orders(organisation_id: int, email: str, *, now: datetime | None = None) -> list[Order]:
    """The orders of the organisation bought with `email` (any case) whose tickets page shows tickets now: paid,
    not held, with a valid ticket, the event not past its links' expiry. The soonest event first, with
    their events."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TICKETS_PAGE_DAYS_AFTER_EVENT)
    return list(
        Order.objects.alias(email_lower=Lower("contact_email"))  # the order_email_lower index
        .filter(
            organisation_id=organisation_id,
            email_lower=email.strip().lower(),
            status=Order.Status.PAID,
            tickets_held=False,
            event__ends_at__gt=cutoff,
        )
        .filter(pk__in=Ticket.objects.filter(status=Ticket.Status.VALID).values("order_id"))
        .select_related("event", "organisation")
        .order_by("event__starts_at", "-created_at")
    )


def current_order_links(organisation_id: int, email: str) -> list[dict[str, Any]]:
    """Each of `current_orders` with its event's start (labelled, on the event's clocks) and its tickets page
    link: {"order", "event", "starts", "url"}, for the "Find my tickets" email."""
    return [
        {
            "order": order,
            "event": order.event,
            "starts": local_text(order.event.starts_at, order.event.tzinfo),
            "url": tickets_page_url(order),
        }
        for order in current_orders(organisation_id, email)
    ]


def tickets_page_new_link(*, actor: User, order: Order, replacing: int | None = None) -> Order:
    """Void every tickets page link sent for the order and make a new one (`tickets_page_url` of the returned
    order); writes one "tickets_page.new_link" timeline entry naming the actor. Nothing is sent: the agent
    passes the new link on (resend, SMS) as they choose.

    `replacing` is the version the agent saw (the form's): once it was replaced, a repeat (a double submit)
    returns the order unchanged. Perm.SHARE_TICKETS_PAGE on the order's organisation and region (else
    PermissionDenied, or Http404 for another's).
    """
    require_perm(actor, order.organisation, Perm.SHARE_TICKETS_PAGE, region_id=order.event.region_id)
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("event", "organisation").get(pk=order.pk)
        if replacing is not None and locked.tickets_page_version != replacing:
            return locked
        locked.tickets_page_version += 1
        locked.save(update_fields=["tickets_page_version"])
        timeline_record(order=locked, action="tickets_page.new_link", actor=actor)
    return locked
