"""Every write to an order. One function per action, each the same six steps (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from guests.models import Guest
from organiser_portal.models import Event, TicketType
from tickets.services import tickets_issue

from .errors import OrderActionError
from .models import Order, OrderLine, Payment
from .timeline import timeline_record

CENT = Decimal("0.01")
Status = Order.Status


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _set_status(
    order: Order, status: str, *, actor=None, actor_kind: str | None = None, data: dict | None = None
) -> None:
    """The one place an order's status changes: checks the transition table and writes the timeline entry.

    The caller holds the order row lock and is inside a transaction.
    """
    if not order.can_move_to(status):
        raise OrderActionError(
            f"An order that is {order.get_status_display().lower()} can't become {Status(status).label.lower()}."
        )
    order.status = status
    fields = ["status"]
    now = timezone.now()
    if status == Status.PAID:
        order.paid_at = now
        fields.append("paid_at")
    elif status == Status.CANCELLED:
        order.cancelled_at = now
        fields.append("cancelled_at")
    order.save(update_fields=fields)
    timeline_record(order=order, action=f"order.{status}", actor=actor, actor_kind=actor_kind, data=data)


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("event").get(pk=order.pk)


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
    guest: Guest | None = None,
    promo_code: str = "",
    discount_percent: Decimal = Decimal("0"),
    created_at: datetime | None = None,
) -> Order:
    """A reserved order with its lines and totals (prices include tax; fees are per ticket)."""
    if not lines or any(r.quantity < 1 for r in lines):
        raise OrderActionError("An order needs at least one ticket.")
    if any(r.ticket_type.event_id != event.pk for r in lines):
        raise OrderActionError("Every ticket type must belong to the order's event.")
    with transaction.atomic():
        order = Order.objects.create(
            organisation_id=event.organisation_id,
            event=event,
            guest=guest,
            contact_name=contact_name,
            contact_email=contact_email,
            contact_phone=contact_phone,
            address=address,
            currency=event.currency,
            promo_code=promo_code,
            created_at=created_at or timezone.now(),
        )
        discount_total = total = Decimal("0")
        for request in lines:
            tt = request.ticket_type
            discount = _money(tt.price * request.quantity * discount_percent / 100)
            fee = tt.processing_fee * request.quantity
            taxable = tt.price * request.quantity - discount
            tax = _money(taxable * tt.tax_rate / (100 + tt.tax_rate))
            line = OrderLine.objects.create(
                organisation_id=order.organisation_id,
                order=order,
                ticket_type=tt,
                quantity=request.quantity,
                unit_price=tt.price,
                discount=discount,
                fee=fee,
                tax=tax,
            )
            discount_total += discount
            total += line.gross
        order.discount_total, order.total = discount_total, total
        order.save(update_fields=["discount_total", "total"])
        timeline_record(order=order, action="order.reserved", data={"total": str(total)})
    return order


def order_start_payment(*, order: Order, provider: str, reference: str = "") -> Payment:
    """The buyer went to pay: reserved → processing payment, with a pending payment."""
    with transaction.atomic():
        order = _lock(order)
        if order.status == Status.PROCESSING_PAYMENT:
            return order.payments.filter(status=Payment.Status.PENDING).latest("created_at")
        _set_status(order, Status.PROCESSING_PAYMENT, data={"provider": provider})
        return Payment.objects.create(
            organisation_id=order.organisation_id,
            order=order,
            provider=provider,
            reference=reference,
            amount=order.total,
            status=Payment.Status.PENDING,
        )


def order_confirming_payment(*, order: Order) -> Order:
    """The provider accepted the payment and is confirming it."""
    with transaction.atomic():
        order = _lock(order)
        if order.status == Status.CONFIRMING_PAYMENT:
            return order
        _set_status(order, Status.CONFIRMING_PAYMENT)
        return order


def order_mark_paid(*, order: Order, processing_fee: Decimal = Decimal("0")) -> Order:
    """Payment confirmed: the order is paid and its tickets are issued.

    When the event holds tickets for review, the order waits (tickets_held) until
    someone sends its tickets.
    """
    with transaction.atomic():
        order = _lock(order)
        if order.status == Status.PAID:
            return order
        _set_status(order, Status.PAID, data={"total": str(order.total)})
        order.payments.filter(status=Payment.Status.PENDING).update(
            status=Payment.Status.CONFIRMED, confirmed_at=order.paid_at, processing_fee=processing_fee
        )
        tickets_issue(order=order)
        if not order.event.send_tickets_automatically:
            order.tickets_held = True
            order.save(update_fields=["tickets_held"])
            timeline_record(order=order, action="order.tickets_held")
        return order


def order_expire(*, order: Order, reason: str) -> Order:
    """The reservation ran out or the payment failed or was abandoned."""
    with transaction.atomic():
        order = _lock(order)
        if order.status == Status.EXPIRED:
            return order
        _set_status(order, Status.EXPIRED, data={"reason": reason})
        order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PENDING]).update(
            status=Payment.Status.FAILED
        )
        return order
