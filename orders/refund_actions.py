"""The order actions that give money back: refund, retry a refund, cancel. Order services like the others
(orders.services re-exports them), each the six steps of DESIGN.md §4.

The money moves after the request through the refund lifecycle (orders.refunds: refund_move,
refund_submit_later); these decide what is asked for, in the order's lock, and hand the refund to the provider
after commit. The amounts come from orders.refund_quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from notifications.models import OutgoingMessage
from notifications.services import message_queue
from organiser_portal.money import money_format
from organiser_portal.permissions import Perm, require_perm
from tickets.models import Ticket
from tickets.services import tickets_invalidate

from . import rules
from .errors import OrderActionError
from .models import Order, Payment, Refund
from .payment_providers import UnknownProvider, provider_for
from .refund_quote import RefundQuote, refund_quote
from .refunds import refund_move, refund_submit_later
from .status import order_lock, order_set_status
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Order.Status


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
    try:
        provider = provider_for(payment)
    except UnknownProvider:
        raise OrderActionError(rules.refusal_unknown_provider(payment)) from None
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
        order = order_lock(order.pk)
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
        order = order_lock(order.pk)
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
        order = order_lock(order.pk)
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
