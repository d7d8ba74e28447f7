"""Every write to an order. One function per action, each the same six steps (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from guests.models import Customer
from notifications.models import OutgoingMessage
from notifications.services import message_queue
from organiser_portal.addresses import AddressError, address_normalise
from organiser_portal.codes import new_order_code, with_fresh_codes
from organiser_portal.models import Event, TicketType
from organiser_portal.money import money_format, money_round
from organiser_portal.permissions import Perm, require_perm
from tickets.models import Ticket
from tickets.services import tickets_invalidate

from . import rules
from .errors import OrderActionError
from .models import Order, OrderLine, Payment, Refund
from .payment_providers import provider_for

# The payment side lives in orders/payments.py; its functions are order services too, importable from here.
from .payments import order_expire as order_expire
from .payments import order_mark_confirming_payment as order_mark_confirming_payment
from .payments import order_mark_paid as order_mark_paid
from .payments import order_start_payment as order_start_payment
from .refund_quote import RefundQuote, refund_quote
from .refunds import refund_move, refund_submit_later
from .status import order_lock, order_set_status
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Order.Status


def _lock(order: Order) -> Order:
    return order_lock(order.pk)


@dataclass(frozen=True)
class LineRequest:
    ticket_type: TicketType
    quantity: int


def order_create(
    *,
    event: Event,
    contact_name: str,
    contact_email: str,
    lines: Sequence[LineRequest],
    contact_phone: str = "",
    address: str = "",
    customer: Customer | None = None,
    promo_code: str = "",
    discount_percent: Decimal = Decimal("0"),
    created_at: datetime | None = None,
) -> Order:
    """A reserved order with its lines and totals (prices include tax; fees are per ticket)."""
    if not lines or any(r.quantity < 1 for r in lines):
        raise OrderActionError("An order needs at least one ticket.")
    if any(r.ticket_type.event_id != event.pk for r in lines):
        raise OrderActionError("Every ticket type must belong to the order's event.")
    fields = {
        "organisation_id": event.organisation_id,
        "event": event,
        "customer": customer,
        "contact_name": contact_name,
        "contact_email": contact_email,
        "contact_phone": contact_phone,
        "address": address,
        "currency": event.currency,
        "promo_code": promo_code,
        "created_at": created_at or timezone.now(),
    }
    drawn: list[str] = []

    def create() -> Order:
        drawn.append(new_order_code())
        return Order.objects.create(code=drawn[-1], **fields)

    def collided() -> bool:
        return Order.objects.filter(organisation_id=event.organisation_id, code=drawn[-1]).exists()

    with transaction.atomic():
        order = with_fresh_codes(create, collided=collided)
        discount_total = total = Decimal("0")
        for request in lines:
            tt = request.ticket_type
            discount = money_round(tt.price * request.quantity * discount_percent / 100, event.currency)
            booking_fee = tt.booking_fee * request.quantity
            taxable = tt.price * request.quantity - discount
            tax = money_round(taxable * tt.tax_rate / (100 + tt.tax_rate), event.currency)
            line = OrderLine.objects.create(
                organisation_id=order.organisation_id,
                order=order,
                ticket_type=tt,
                quantity=request.quantity,
                unit_price=tt.price,
                discount=discount,
                booking_fee=booking_fee,
                tax=tax,
            )
            discount_total += discount
            total += line.gross
        order.discount_total, order.total = discount_total, total
        order.save(update_fields=["discount_total", "total"])
        timeline_record(order=order, action="order.reserved", data={"total": str(total)})
    return order


# --- Ticket delivery: resend, edit contact, send held tickets ----------------


def _valid_ticket_count(order: Order) -> int:
    return order.tickets.filter(status=Ticket.Status.VALID).count()


def _clean_email(address: str) -> str:
    """The address in its stored form (organiser_portal.addresses), invisible characters removed."""
    try:
        return address_normalise(address).value
    except AddressError as error:
        raise OrderActionError(str(error)) from None


def _queue_resend(*, order: Order, actor: User, recipient: str, idempotency_key: str) -> OutgoingMessage:
    """Steps 3–6 of a resend, for a caller that checked permission and holds the order lock."""
    if idempotency_key:
        done = OutgoingMessage.objects.filter(idempotency_key=idempotency_key, order=order).first()
        if done is not None:
            return done
    if reason := rules.refusal_resend(order, valid_tickets=_valid_ticket_count(order)):
        raise OrderActionError(reason)
    message = message_queue(
        order=order,
        kind=OutgoingMessage.Kind.TICKETS_RESEND,
        recipient=recipient,
        actor=actor,
        idempotency_key=idempotency_key,
        record_timeline=False,
    )
    timeline_record(
        order=order,
        action="tickets.resent",
        actor=actor,
        data={"recipient": recipient, "other_address": recipient.lower() != order.contact_email.lower()},
    )
    return message


def order_resend_tickets(
    *,
    actor: User,
    order: Order,
    recipient: str = "",
    idempotency_key: str = "",
    complaint_confirmed: bool = False,
) -> OutgoingMessage:
    """Email the order's existing valid tickets again, to the contact email or once to `recipient`.

    Creates no order, changes no status, issues no tickets and leaves the contact as it is.
    The same idempotency key (from the confirmation form) queues one message however often
    it is submitted. An address that marked this order's email as spam is sent to only with
    `complaint_confirmed` (OrderActionError otherwise).
    """
    require_perm(actor, order.organisation, Perm.RESEND, region_id=order.event.region_id)
    with transaction.atomic():
        order = _lock(order)
        address = _clean_email(recipient) if recipient.strip() else order.contact_email
        complained = order.messages.filter(recipient__iexact=address, status=OutgoingMessage.Status.COMPLAINED)
        if not complaint_confirmed and complained.exists():
            raise OrderActionError(
                f"{address} marked the tickets email as spam: confirm that the guest asked for it to resend anyway."
            )
        return _queue_resend(order=order, actor=actor, recipient=address, idempotency_key=idempotency_key)


def order_change_contact(
    *,
    actor: User,
    order: Order,
    name: str,
    email: str,
    phone: str,
    resend_tickets: bool = False,
    idempotency_key: str = "",
) -> Order:
    """Change the order's contact name, email and phone; the timeline records old → new.

    A verified customer account owns its address: the email of its orders can't be changed.
    With resend_tickets, the tickets also go to the (new) address in the same step — this is
    "Fix and resend" on a bounced email.
    """
    require_perm(actor, order.organisation, Perm.EDIT_CONTACT, region_id=order.event.region_id)
    if resend_tickets:
        require_perm(actor, order.organisation, Perm.RESEND, region_id=order.event.region_id)
    name, phone, email = name.strip(), phone.strip(), email.strip()
    if not name:
        raise OrderActionError("The contact needs a name.")
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("event", "customer").get(pk=order.pk)
        # Only a new address meets the rule: one stored before it never blocks a name or phone edit.
        if email != order.contact_email:
            email = _clean_email(email)
        new = {"contact_name": name, "contact_email": email, "contact_phone": phone}
        changed = {
            field: (getattr(order, field), value) for field, value in new.items() if getattr(order, field) != value
        }
        if changed:
            if reason := rules.refusal_edit_contact(order):
                raise OrderActionError(reason)
            if "contact_email" in changed and (reason := rules.refusal_change_email(order)):
                raise OrderActionError(reason)
            for field, (_old, value) in changed.items():
                setattr(order, field, value)
            order.save(update_fields=list(changed))
            words = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
            timeline_record(
                order=order,
                action="order.contact_changed",
                actor=actor,
                data={
                    "changes": "; ".join(
                        f"{words[f]} {old or '—'} → {value or '—'}" for f, (old, value) in changed.items()
                    ),
                    "old": {f: old for f, (old, _v) in changed.items()},
                    "new": {f: value for f, (_o, value) in changed.items()},
                },
            )
        if resend_tickets:
            _queue_resend(order=order, actor=actor, recipient=order.contact_email, idempotency_key=idempotency_key)
        return order


def order_send_held_tickets(*, actor: User, order: Order, idempotency_key: str = "") -> Order:
    """Release an order held for review: its tickets email is queued to the contact address.

    An order with nothing held is refused with the menu's reason (rules.refusal_send_held), never
    answered "sent"; the same idempotency key (a double submit of the form) is the one release again.
    """
    require_perm(actor, order.organisation, Perm.SEND_HELD, region_id=order.event.region_id)
    with transaction.atomic():
        order = _lock(order)
        if idempotency_key and order.messages.filter(idempotency_key=idempotency_key).exists():
            return order
        if reason := rules.refusal_send_held(order):
            raise OrderActionError(reason)
        if _valid_ticket_count(order) == 0:
            raise OrderActionError("No valid ticket to send")
        order.tickets_held = False
        order.save(update_fields=["tickets_held"])
        message_queue(
            order=order,
            kind=OutgoingMessage.Kind.TICKETS,
            recipient=order.contact_email,
            actor=actor,
            idempotency_key=idempotency_key,
            record_timeline=False,
        )
        timeline_record(
            order=order, action="order.held_tickets_sent", actor=actor, data={"recipient": order.contact_email}
        )
        return order


# --- Refunds and cancellations ------------------------------------------------
# The money moves after the request through orders.refunds (refund_move, refund_submit_later); these services
# decide what is asked for, in the order's lock, and hand the refund to the provider after commit.


def _refund_payment(order: Order) -> Payment:
    payment = order.payments.filter(status=Payment.Status.CONFIRMED).order_by("-confirmed_at", "-id").first()
    if payment is None:
        raise OrderActionError("No confirmed payment to refund to")
    return payment


def _refund_create(
    *,
    actor: User,
    order: Order,
    quote: RefundQuote,
    reason: str,
    note: str,
    notify_customer: bool,
    idempotency_key: str,
    ticket_reason: str | None,
) -> Refund:
    """Steps 5–6 of a refund request for a caller that holds the order lock and checked the state: the Refund
    (requested), the money on its way (`refunding_total`), the chosen tickets invalid for `ticket_reason`
    (None: the caller invalidates them), the timeline, and the provider call after commit."""
    reason, note = " ".join(reason.split()), " ".join(note.split())
    if not reason:
        raise OrderActionError("Give a reason for the refund.")
    payment = _refund_payment(order)
    provider = provider_for(payment)
    if provider.records_refunds and not note:
        raise OrderActionError(f"{provider.label}: {provider.refund_hint} Add a note saying how the money went back.")
    now = timezone.now()
    refund = Refund.objects.create(
        organisation_id=order.organisation_id,
        order=order,
        payment=payment,
        amount=quote.amount,
        booking_fee_kept=quote.booking_fee_kept,
        booking_fee_refunded=quote.booking_fee_refunded and bool(quote.tickets),
        status=Refund.Status.REQUESTED,
        reason=(f"{reason} · {note}" if note else reason)[:300],
        idempotency_key=idempotency_key,
        notify_customer=notify_customer,
        status_changed_at=now,
        requested_by=actor,
        created_at=now,
    )
    tickets = [share.ticket for share in quote.tickets]
    refund.tickets.set(tickets)
    # The constraint order_refunds_within_total refuses going over, whatever got past the quote.
    order.refunding_total += quote.amount
    order.save(update_fields=["refunding_total"])
    timeline_record(
        order=order,
        action="refund.requested",
        actor=actor,
        data={
            "amount": money_format(quote.amount, order.currency),  # as the refund lifecycle's entries write it
            "refund": refund.pk,
            "reason": refund.reason,
            "tickets": [t.public_id for t in tickets],
            "booking_fee_kept": str(quote.booking_fee_kept),
        },
    )
    if ticket_reason is not None:
        for ticket in tickets_invalidate(tickets=tickets, reason=ticket_reason):
            timeline_record(order=order, action="ticket.refunded", actor=actor, data={"ticket": ticket.public_id})
    transaction.on_commit(lambda: refund_submit_later(refund.pk))
    return refund


def order_refund(
    *,
    actor: User,
    order: Order,
    tickets: Sequence[str] = (),
    all_tickets: bool = False,
    include_booking_fee: bool = False,
    amount: Decimal | None = None,
    reason: str,
    note: str = "",
    notify_customer: bool = True,
    idempotency_key: str,
) -> Refund:
    """Ask for money back through the order's confirmed payment: the chosen `tickets` (ticket IDs), or
    `all_tickets`, or a custom `amount` — figures as `orders.refund_quote.refund_quote` computes them, the
    booking fee kept unless `include_booking_fee`.

    Returns the Refund, status requested; the chosen tickets are "Invalid · refunded" from now on. After commit
    the provider is asked (orders.refunds.refund_submit_later); the customer gets the refund email when the money
    went back, if `notify_customer`. A records-only provider (manual, PayPal) needs a `note` saying how the money
    went back. The same `idempotency_key` again returns the first refund. Raises OrderActionError with the text
    the page shows (the menu's reason when the order can't be refunded, or what is wrong with the request),
    PermissionDenied without Perm.REFUND, Http404 outside the actor's organisation or regions.
    """
    require_perm(actor, order.organisation, Perm.REFUND, region_id=order.event.region_id)
    if not idempotency_key:
        raise ValueError("A refund needs the idempotency key of the form that asked for it.")
    with transaction.atomic():
        order = _lock(order)
        if (done := _refund_done(order, idempotency_key)) is not None:
            return done
        if reason_refused := rules.refusal_refund(order):
            raise OrderActionError(reason_refused)
        quote = refund_quote(
            order, tickets=tickets, all_tickets=all_tickets, include_booking_fee=include_booking_fee, amount=amount
        )
        return _refund_create(
            actor=actor,
            order=order,
            quote=quote,
            reason=reason,
            note=note,
            notify_customer=notify_customer,
            idempotency_key=idempotency_key,
            ticket_reason=Ticket.InvalidReason.REFUNDED,
        )


def _refund_done(order: Order, idempotency_key: str) -> Refund | None:
    refund = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if refund is not None and refund.order_id != order.pk:
        raise OrderActionError("This form was already used for another order: open the refund again.")
    return refund


def order_refund_retry(*, actor: User, refund: Refund, idempotency_key: str) -> Refund:
    """Try a refund that ended in "Refund error" again: failed → requested, the next attempt (a new idempotency
    key at the provider, `Refund.attempt_key`), its amount back on its way (`refunding_total`), and the provider
    asked after commit.

    `idempotency_key` is the `attempt_key` of the failed attempt the agent retries (the Retry button posts it):
    a second submit finds the refund on a later attempt and returns it unchanged. Raises OrderActionError when the
    refund did not fail ("The refund went through: nothing to retry") or its amount is more than is still
    refundable, PermissionDenied without Perm.REFUND, Http404 outside the actor's organisation or regions.
    """
    order = refund.order
    require_perm(actor, order.organisation, Perm.REFUND, region_id=order.event.region_id)
    with transaction.atomic():
        order = _lock(order)
        refund = Refund.objects.select_for_update().get(pk=refund.pk, order=order)
        refund.order = order  # refund_move moves the money on the locked row
        if idempotency_key != refund.attempt_key:
            return refund  # that attempt was retried already (a double submit), or the page was out of date
        if reason := rules.refusal_refund_retry(refund):
            raise OrderActionError(reason)
        refund = refund_move(refund, Refund.Status.REQUESTED, actor=actor)
        refund_id = refund.pk
        transaction.on_commit(lambda: refund_submit_later(refund_id))
        return refund


def order_cancel(
    *,
    actor: User,
    order: Order,
    refund: bool = False,
    include_booking_fee: bool = False,
    amount: Decimal | None = None,
    reason: str = "",
    note: str = "",
    notify_customer: bool = True,
    used_confirmed: bool = False,
    idempotency_key: str,
) -> Order:
    """Cancel the order: every ticket still in it becomes "Invalid · cancelled" (each with its "Item cancelled"
    entry), the order cancelled. With `refund`, the money goes back in the same step — all of it (the booking fee
    kept unless `include_booking_fee`) or a custom `amount` — as `order_refund` does, `reason` and `note` included.
    With `notify_customer` the customer gets the cancellation email.

    A ticket already used at the door needs `used_confirmed`. The same `idempotency_key` again returns the
    cancelled order unchanged. Raises OrderActionError with the menu's reason for an order already cancelled,
    expired or fully refunded, PermissionDenied without Perm.CANCEL (and Perm.REFUND with `refund`), Http404
    outside the actor's organisation or regions.
    """
    require_perm(actor, order.organisation, Perm.CANCEL, region_id=order.event.region_id)
    if refund:
        require_perm(actor, order.organisation, Perm.REFUND, region_id=order.event.region_id)
    if not idempotency_key:
        raise ValueError("A cancellation needs the idempotency key of the form that asked for it.")
    with transaction.atomic():
        order = _lock(order)
        if (
            order.status == Status.CANCELLED
            and order.timeline.filter(action="order.cancelled", data__idempotency_key=idempotency_key).exists()
        ):
            return order
        if reason_refused := rules.refusal_cancel(order):
            raise OrderActionError(reason_refused)
        # Valid tickets, and invalidated ones without a reason; refunded and transferred ones stay as they are.
        tickets = list(order.tickets.filter(invalid_reason=""))
        used = [t.public_id for t in tickets if t.used_at is not None and t.is_valid]
        if used and not used_confirmed:
            raise OrderActionError(f"Already used at the door: {', '.join(used)}. Confirm to cancel the order anyway.")
        if refund:
            if reason_refused := rules.refusal_refund(order):
                raise OrderActionError(f"No refund possible: {reason_refused}")
            quote = refund_quote(
                order, all_tickets=amount is None, include_booking_fee=include_booking_fee, amount=amount
            )
            _refund_create(
                actor=actor,
                order=order,
                quote=quote,
                reason=reason or "Order cancelled",
                note=note,
                notify_customer=False,  # the cancellation email says what goes back
                idempotency_key=idempotency_key,
                ticket_reason=None,
            )
        for ticket in tickets_invalidate(tickets=tickets, reason=Ticket.InvalidReason.CANCELLED):
            timeline_record(order=order, action="ticket.cancelled", actor=actor, data={"ticket": ticket.public_id})
        order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PENDING]).update(
            status=Payment.Status.CANCELLED
        )
        order_set_status(
            order,
            Status.CANCELLED,
            actor=actor,
            data={"reason": " ".join(reason.split()), "idempotency_key": idempotency_key, "used": used},
        )
        if notify_customer:
            message_queue(
                order=order,
                kind=OutgoingMessage.Kind.CANCELLATION_NOTICE,
                recipient=order.contact_email,
                actor=actor,
                idempotency_key=f"cancel:{idempotency_key}"[:80],
            )
        return order
