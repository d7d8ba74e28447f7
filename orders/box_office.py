"""Orders made in the portal: the box office sells at the door, or a manager gives tickets away (complimentary).

`box_office_order_create` does the whole sale in one transaction, through the same services as the shop:
order_create (capacity checked, limited ticket types locked) → the payment recorded with the manual provider
→ confirming → paid → tickets issued → sent, or held when the event doesn't send tickets automatically
(orders.payments.order_mark_paid) → a timeline entry naming who created it and how it was paid.
A refusal (capacity, a bad address) writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from guests.models import Customer
from guests.selectors import customers_visible
from organiser_portal.models import Event
from organiser_portal.money import money_format
from organiser_portal.permissions import Access, Perm, require_perm
from organiser_portal.phones import phone_validate
from tickets.models import Ticket
from tickets.personalisation import AttendeeDetails, ticket_personalise_at_sale

from .errors import OrderActionError
from .models import Order, TimelineEntry
from .payment_providers import MANUAL
from .pricing import LineAmounts, ticket_type_line_amounts
from .services import (
    LineRequest,
    email_clean,
    order_create,
    order_mark_confirming_payment,
    order_mark_paid,
    order_start_payment,
)
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

USER = TimelineEntry.ActorKind.USER
# How a box-office buyer pays, as Payment.method stores it.
BOX_OFFICE_METHODS = ("Cash", "Card", "Bank transfer")
COMPLIMENTARY_METHOD = "Complimentary"


@dataclass(frozen=True)
class PaidAtBoxOffice:
    """Paid in person: `method` one of BOX_OFFICE_METHODS; `reference` the terminal's receipt or the transfer's
    reference (Payment.reference, ≤ 120 characters); `note` for the timeline."""

    method: str
    reference: str = ""
    note: str = ""


@dataclass(frozen=True)
class Complimentary:
    """Given away at no charge, for `reason` ("Press", "Artist's guest list"), shown on the order's timeline."""

    reason: str


@dataclass(frozen=True)
class QuoteLine:
    request: LineRequest
    amounts: LineAmounts


@dataclass(frozen=True)
class Quote:
    """What an order would cost: each line's amounts (orders.pricing) and the total, in the event's currency."""

    lines: list[QuoteLine]
    total: Decimal
    complimentary: bool


def box_office_quote(*, event: Event, lines: Sequence[LineRequest], complimentary: bool) -> Quote:
    """The amounts `order_create` will store for these lines, for the summary shown before confirming. Pure."""
    quoted = [
        QuoteLine(
            request,
            ticket_type_line_amounts(
                request.ticket_type, request.quantity, currency=event.currency, complimentary=complimentary
            ),
        )
        for request in lines
    ]
    return Quote(quoted, sum((q.amounts.gross for q in quoted), Decimal("0")), complimentary)


def box_office_customer(access: Access, email: str) -> Customer | None:
    """The customer account with this email (any case) among those the member sees (guests.selectors
    .customers_visible: a region-limited member, those with orders in their regions), None for no email. Raises
    OrderActionError when there is none, the same words whether or not an account the member can't see has it."""
    if not email.strip():
        return None
    address = email_clean(email)
    customer = customers_visible(access.without_region_choice()).filter(email__iexact=address).first()
    if customer is None:
        raise OrderActionError(f"No customer account has the email {address}: leave it empty for a guest order.")
    return customer


def _checked_payment(payment: PaidAtBoxOffice | Complimentary) -> PaidAtBoxOffice | Complimentary:
    if isinstance(payment, Complimentary):
        if not payment.reason.strip():
            raise OrderActionError("Say why the tickets are complimentary.")
        return Complimentary(payment.reason.strip()[:200])
    if payment.method not in BOX_OFFICE_METHODS:
        raise OrderActionError(f"Choose how it was paid: {', '.join(BOX_OFFICE_METHODS)}.")
    return PaidAtBoxOffice(payment.method, payment.reference.strip()[:120], payment.note.strip()[:200])


def _record(*, order: Order, actor: User, payment: PaidAtBoxOffice | Complimentary) -> None:
    if isinstance(payment, Complimentary):
        timeline_record(order=order, action="order.complimentary_created", actor=actor, data={"reason": payment.reason})
        return
    how = " · ".join(part for part in (payment.method, payment.reference, payment.note) if part)
    total = money_format(order.total, order.currency)
    timeline_record(
        order=order,
        action="order.box_office_created",
        actor=actor,
        data={"total": total, "payment": how, "method": payment.method, "reference": payment.reference},
    )


def _attendees_give(
    *, order: Order, actor: User, attendees: Mapping[int, Sequence[AttendeeDetails | None]]
) -> list[Ticket]:
    """The attendee details taken with the sale onto the order's new tickets, in issue order per ticket type."""
    by_type: dict[int, list[Ticket]] = {}
    for ticket in Ticket.objects.filter(order=order).order_by("pk"):
        by_type.setdefault(ticket.ticket_type_id, []).append(ticket)
    details = {
        ticket.public_id: given
        for type_id, per_ticket in attendees.items()
        for ticket, given in zip(by_type.get(type_id, []), per_ticket, strict=False)
        if given is not None
    }
    return ticket_personalise_at_sale(actor=actor, order=order, details=details) if details else []


def box_office_order_create(
    *,
    actor: User,
    event: Event,
    lines: Sequence[LineRequest],
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    customer_email: str = "",
    payment: PaidAtBoxOffice | Complimentary,
    idempotency_key: str,
    attendees: Mapping[int, Sequence[AttendeeDetails | None]] | None = None,
) -> Order:
    """A paid order made by `actor` in the portal, its tickets issued and sent (or held, per the event).

    Paid at the box office: a confirmed manual payment of the total with its method and reference. Complimentary
    (managers and owners, Perm.COMPLIMENTARY): every ticket at no charge and no booking fee, total 0, the order
    marked `complimentary`, with a confirmed payment of 0. `customer_email`: link the order to the organisation's
    customer account with that email. The same `idempotency_key` (the form's, ≤ 80 characters) returns the order
    it made, however often and however simultaneously it is submitted. `attendees`: ticket type id → the
    attendee details of its tickets in turn (None: left blank, the ticket stays "missing personal data"), saved
    as personalisation does (tickets.personalisation.ticket_personalise_at_sale), with its timeline entries.

    Raises OrderActionError, writing nothing, for capacity that is short, an address or phone the contact form
    would refuse, no customer account with `customer_email`, a payment without its method or reason, or
    attendee details personalisation refuses (PersonalisationError, `errors` by the new tickets' IDs);
    PermissionDenied / Http404 as organiser_portal.permissions.require_perm.
    """
    access = require_perm(actor, event.organisation, Perm.CREATE_ORDERS, region_id=event.region_id)
    if isinstance(payment, Complimentary):
        require_perm(actor, event.organisation, Perm.COMPLIMENTARY, region_id=event.region_id)
    if not idempotency_key:
        raise ValueError("A box-office order needs the form's idempotency key.")
    made = Order.objects.filter(organisation_id=event.organisation_id, idempotency_key=idempotency_key)
    if (order := made.first()) is not None:
        return order
    payment = _checked_payment(payment)
    if not contact_name.strip():
        raise OrderActionError("The contact needs a name.")
    try:
        phone = phone_validate(contact_phone, event.phone_region)
    except ValidationError as error:
        raise OrderActionError(error.messages[0]) from None
    email = email_clean(contact_email)
    customer = box_office_customer(access, customer_email)
    if isinstance(payment, Complimentary):
        complimentary, method, reference = True, COMPLIMENTARY_METHOD, ""
    else:
        complimentary, method, reference = False, payment.method, payment.reference
    try:
        with transaction.atomic():
            order = order_create(
                event=event,
                lines=lines,
                contact_name=contact_name.strip(),
                contact_email=email,
                contact_phone=phone,
                customer=customer,
                complimentary=complimentary,
                idempotency_key=idempotency_key,
            )
            _record(order=order, actor=actor, payment=payment)
            order_start_payment(
                order=order,
                provider=MANUAL.key,
                method=method,
                reference=reference,
                actor=actor,
                actor_kind=USER,
            )
            order_mark_confirming_payment(order=order, actor=actor, actor_kind=USER)
            order = order_mark_paid(order=order, actor=actor, actor_kind=USER)
            if attendees:
                _attendees_give(order=order, actor=actor, attendees=attendees)
            return order
    except IntegrityError:
        # The same form posted twice at once: the other request's order holds the key (its insert made this one wait).
        if (order := made.first()) is None:
            raise
        return order
