"""The payment side of an order: the buyer pays, the provider confirms, or the order expires.

    reserved → processing_payment → confirming_payment → paid
    reserved → expired (the reservation ran out)
    processing_payment / confirming_payment → expired (the payment failed or was abandoned)

Each move is one function, each the same shape as the order actions (DESIGN.md §4): lock the order row,
return unchanged when already done, move through `order_set_status` (the transition table and the timeline
entry), side effects after commit. These are not staff actions: each takes an explicit actor, the system by
default (`actor_kind` SYSTEM: the shop's checkout, a timer that ran out), PROVIDER when the payment provider
told us (as `payment_confirm` passes); a staff member recording a box-office payment is `actor` with USER.
orders.services re-exports these functions.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import OutgoingMessage
from notifications.services import message_queue
from tickets.services import tickets_issue

from .models import Order, Payment, TimelineEntry
from .payment_providers import ProviderUnreachable, UnknownProvider, provider_for
from .status import order_lock, order_set_status
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

Status = Order.Status
ActorKind = TimelineEntry.ActorKind
AWAITING_PAYMENT = (Status.PROCESSING_PAYMENT, Status.CONFIRMING_PAYMENT)


def order_start_payment(
    *,
    order: Order,
    provider: str,
    reference: str = "",
    method: str = "",
    actor: User | None = None,
    actor_kind: str = ActorKind.SYSTEM,
) -> Payment:
    """The buyer went to pay: reserved → processing payment, with a pending Payment remembering its provider's
    key (`provider`, orders.payment_providers), the provider's reference ("pi_…" for Stripe) and the method in
    words ("Card", "Cash"). Repeated: returns the pending payment. Raises OrderActionError from another state."""
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status == Status.PROCESSING_PAYMENT:
            return order.payments.filter(status=Payment.Status.PENDING).latest("created_at")
        order_set_status(
            order, Status.PROCESSING_PAYMENT, actor=actor, actor_kind=actor_kind, data={"provider": provider}
        )
        return Payment.objects.create(
            organisation_id=order.organisation_id,
            order=order,
            provider=provider,
            method=method,
            reference=reference,
            amount=order.total,
            status=Payment.Status.PENDING,
        )


def order_mark_confirming_payment(
    *, order: Order, actor: User | None = None, actor_kind: str = ActorKind.SYSTEM
) -> Order:
    """The provider accepted the payment and is confirming it. Repeated: unchanged."""
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status == Status.CONFIRMING_PAYMENT:
            return order
        order_set_status(order, Status.CONFIRMING_PAYMENT, actor=actor, actor_kind=actor_kind)
        return order


def order_mark_paid(
    *,
    order: Order,
    processing_fee: Decimal = Decimal("0"),
    actor: User | None = None,
    actor_kind: str = ActorKind.SYSTEM,
) -> Order:
    """Payment confirmed: the order is paid, its pending payment confirmed with the provider's
    `processing_fee` (order currency), and its tickets are issued and sent after commit.

    When the event holds tickets for review, the order waits (tickets_held) until someone sends its tickets.
    Repeated: unchanged. Raises OrderActionError unless the order is confirming payment.
    """
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status == Status.PAID:
            return order
        order_set_status(order, Status.PAID, actor=actor, actor_kind=actor_kind, data={"total": str(order.total)})
        order.payments.filter(status=Payment.Status.PENDING).update(
            status=Payment.Status.CONFIRMED, confirmed_at=order.paid_at, processing_fee=processing_fee
        )
        tickets_issue(order=order)
        if not order.event.send_tickets_automatically:
            order.tickets_held = True
            order.save(update_fields=["tickets_held"])
            timeline_record(order=order, action="order.tickets_held")
        else:
            message_queue(order=order, kind=OutgoingMessage.Kind.TICKETS, recipient=order.contact_email)
        return order


def order_expire(
    *,
    order: Order,
    reason: str,
    payment_status: str = Payment.Status.FAILED,
    only_from: Collection[str] | None = None,
    actor: User | None = None,
    actor_kind: str = ActorKind.SYSTEM,
) -> Order:
    """The reservation ran out, or the payment failed or was abandoned: the order expires with `reason` (in the
    timeline) and its unfinished payments end as `payment_status` (failed, or expired when abandoned).

    `only_from`: the statuses the caller saw; when the order moved on meanwhile (a payment started, or was
    confirmed) it is returned unchanged. Repeated: unchanged. Raises OrderActionError from paid, refunded or
    cancelled.
    """
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status == Status.EXPIRED or (only_from is not None and order.status not in only_from):
            return order
        order_set_status(order, Status.EXPIRED, actor=actor, actor_kind=actor_kind, data={"reason": reason})
        order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PENDING]).update(status=payment_status)
        return order


def payment_confirm(*, payment: Payment) -> Order:
    """Ask the payment's provider how the payment stands and move the order to match.

    Confirmed → paid (through confirming payment) with the provider's fee; failed → expired with the
    provider's reason (payment failed); pending or no answer → unchanged. The provider is asked outside the
    order's lock. Raises UnknownProvider for a provider that is not enabled and ProviderUnreachable when it
    can't be asked.
    """
    update = provider_for(payment).payment_update(payment)
    order = payment.order
    if update is None or update.status == Payment.Status.PENDING:
        return Order.objects.get(pk=order.pk)
    if update.status == Payment.Status.FAILED:
        reason = f"payment failed: {update.error}" if update.error else "payment failed"
        return order_expire(order=order, reason=reason, only_from=AWAITING_PAYMENT, actor_kind=ActorKind.PROVIDER)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status == Status.PROCESSING_PAYMENT:
            order = order_mark_confirming_payment(order=order, actor_kind=ActorKind.PROVIDER)
        if order.status == Status.CONFIRMING_PAYMENT:
            order = order_mark_paid(order=order, processing_fee=update.processing_fee, actor_kind=ActorKind.PROVIDER)
        return order


def reservations_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Reserved orders older than ORDER_RESERVATION_MINUTES expire (celery beat). Returns how many expired."""
    minutes = settings.ORDER_RESERVATION_MINUTES
    cutoff = (now or timezone.now()) - timedelta(minutes=minutes)
    expired = 0
    for order in Order.objects.filter(status=Status.RESERVED, created_at__lt=cutoff).order_by("created_at")[:limit]:
        result = order_expire(
            order=order,
            reason=f"reservation ran out after {minutes} minutes without payment",
            payment_status=Payment.Status.EXPIRED,
            only_from=[Status.RESERVED],
        )
        expired += result.status == Status.EXPIRED
    return expired


def payments_expire_abandoned(*, now: datetime | None = None, limit: int = 200) -> int:
    """Orders whose payment is still processing or confirming PAYMENT_ABANDONED_MINUTES after it started
    (celery beat). Each payment's provider is asked first: a payment confirmed late is paid, one that failed
    expires with the provider's reason, and only one still without an answer is abandoned (payment expired,
    order expired). When the provider can't be asked now, the order waits for the next round.
    Returns how many orders expired."""
    minutes = settings.PAYMENT_ABANDONED_MINUTES
    cutoff = (now or timezone.now()) - timedelta(minutes=minutes)
    payments = (
        Payment.objects.filter(
            status=Payment.Status.PENDING,
            created_at__lt=cutoff,
            order__status__in=AWAITING_PAYMENT,
            order__created_at__lt=cutoff,  # a payment starts after its order: lets the partial index narrow
        )
        .select_related("order")
        .order_by("created_at")[:limit]
    )
    expired = 0
    for payment in payments:
        try:
            order = payment_confirm(payment=payment)
        except ProviderUnreachable as error:
            log.warning("Payment %s: provider unreachable, asking again later: %s", payment.pk, error)
            continue
        except UnknownProvider:
            order = payment.order
        if order.status in AWAITING_PAYMENT:
            order = order_expire(
                order=order,
                reason=f"payment abandoned: no confirmation within {minutes} minutes",
                payment_status=Payment.Status.EXPIRED,
                only_from=AWAITING_PAYMENT,
            )
        expired += order.status == Status.EXPIRED
    return expired
