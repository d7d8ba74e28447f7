"""After the sale: refunds (full, partial, failed, still running), cancellations, transfers and invalidated
tickets. The processing fee is kept on refunds (DESIGN.md §3); Order.refunded_total is the sum of the
refunds that succeeded. The demo payment provider's processing fee is here too."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from orders.models import Order, Refund
from orders.timeline import timeline_record
from organiser_portal.money import money_format, money_round
from tickets.models import Ticket

from .mail import notice

if TYPE_CHECKING:
    from .context import StoryContext

Kind = Ticket.InvalidReason

REFUND_REASONS = ("guest can't attend", "bought twice by mistake", "event date clashes", "illness")
REFUND_ERROR = "card expired: the payment provider could not return the money"


def processing_fee(total: Decimal, currency: str) -> Decimal:
    """What the demo's payment provider charges for a payment of `total`: 1.4 % plus 0.25."""
    return money_round(total * Decimal("0.014") + Decimal("0.25"), currency)


def _ticket_amounts(ticket: Ticket, currency: str) -> tuple[Decimal, Decimal]:
    """What one ticket cost without its processing fee, and that fee (both from its order line)."""
    line = ticket.line
    price = line.unit_price - money_round(line.discount / line.quantity, currency)
    return price, money_round(line.booking_fee / line.quantity, currency)


def refund_story(ctx: StoryContext, order: Order, story: str, tickets: list[Ticket], at: datetime) -> None:
    rng = ctx.rng
    staff = rng.choice(ctx.staff)
    if story == "refunded_full":
        fee_back = rng.random() < 0.2  # now and then the organiser returns the processing fee too
        _refund(ctx, order, tickets, at, staff, Refund.Status.SUCCEEDED, keep_fee=not fee_back)
        _invalidate(ctx, order, tickets, Kind.REFUNDED, "ticket.refunded", at, staff)
        order_status_write(order, Order.Status.REFUNDED, actor=staff)
        notice(ctx, order, "refund_notice", at + timedelta(minutes=3))
    elif story == "refunded_partial":
        refunded = tickets[-1:]
        _refund(ctx, order, refunded, at, staff, Refund.Status.SUCCEEDED)
        _invalidate(ctx, order, refunded, Kind.REFUNDED, "ticket.refunded", at, staff)
        notice(ctx, order, "refund_notice", at + timedelta(minutes=3))
    elif story == "cancelled_paid":
        _refund(ctx, order, tickets, at, staff, Refund.Status.SUCCEEDED, reason="event cancelled for this guest")
        _invalidate(ctx, order, tickets, Kind.CANCELLED, "ticket.cancelled", at, staff)
        ctx.clock.at = at + timedelta(minutes=3)
        order_status_write(order, Order.Status.CANCELLED, actor=staff)
        notice(ctx, order, "cancellation_notice", at + timedelta(minutes=4))
    elif story == "refund_failed":
        _refund(ctx, order, tickets, at, staff, Refund.Status.FAILED)
    elif story in ("refund_requested", "refund_processing", "refund_confirming"):
        status = Refund.Status(story.removeprefix("refund_"))
        at = ctx.b.now - timedelta(minutes=rng.randint(5, 90))
        _refund(ctx, order, tickets[-1:], at, staff, status)
    elif story == "transferred":
        _transfer(ctx, order, tickets[0], at)
    elif story == "invalidated":
        _invalidate(ctx, order, tickets[:1], Kind.NONE, "ticket.invalidated", at, staff)


def order_status_write(order: Order, status: str, *, actor, data: dict | None = None) -> None:
    """Cancel or refund an order's status the way orders.services would, for the demo's stories.

    A stand-in, written with the models: refunds and cancellations have no service yet. Issue 12
    (refunds and cancellations) brings `order_refund` and `order_cancel`, which replace this.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not locked.can_move_to(status):
            raise ValueError(f"Demo story: order {locked.code} can't move from {locked.status} to {status}")
        locked.status = status
        fields = ["status"]
        if status == Order.Status.CANCELLED:
            locked.cancelled_at = timezone.now()
            fields.append("cancelled_at")
        locked.save(update_fields=fields)
        timeline_record(order=locked, action=f"order.{status}", actor=actor, data=data)
    order.status = status


def _refund(
    ctx: StoryContext,
    order: Order,
    tickets: list[Ticket],
    at: datetime,
    staff,
    status: str,
    *,
    keep_fee: bool = True,
    reason: str = "",
) -> Refund:
    """One refund walked from requested to `status`, with its timeline entries and the order's refunded total."""
    prices, fees = zip(*(_ticket_amounts(t, order.currency) for t in tickets))
    fee_kept = sum(fees, Decimal("0")) if keep_fee else Decimal("0")
    amount = sum(prices, Decimal("0")) + (Decimal("0") if keep_fee else sum(fees, Decimal("0")))
    amount = min(amount, order.total - order.refunded_total)
    steps = [Refund.Status.REQUESTED, Refund.Status.PROCESSING, Refund.Status.CONFIRMING]
    final = [Refund.Status.SUCCEEDED] if status == Refund.Status.SUCCEEDED else []
    if status == Refund.Status.FAILED:
        steps, final = steps[:2], [Refund.Status.FAILED]
    elif status != Refund.Status.SUCCEEDED:
        steps = steps[: steps.index(Refund.Status(status)) + 1]
    refund = Refund.objects.create(
        organisation_id=order.organisation_id,
        order=order,
        payment=order.payments.first(),
        amount=amount,
        booking_fee_kept=fee_kept,
        status=status,
        reason=reason or ctx.rng.choice(REFUND_REASONS),
        error=REFUND_ERROR if status == Refund.Status.FAILED else "",
        idempotency_key=f"demo-{order.pk}-{order.refunds.count() + 1}",
        requested_by=staff,
        created_at=at,
        completed_at=at + timedelta(minutes=1) if final else None,
    )
    refund.tickets.set(tickets)
    shown = money_format(amount, order.currency, style="code")
    for i, step in enumerate(steps + final):
        data = {"amount": shown, "refund": refund.pk}
        if step == Refund.Status.FAILED:
            data["error"] = REFUND_ERROR
        actor = staff if step == Refund.Status.REQUESTED else None
        ctx.clock.at = at + timedelta(seconds=20 * i)
        timeline_record(order=order, action=f"refund.{step}", actor=actor, data=data)
    if status == Refund.Status.SUCCEEDED:
        order.refunded_total += amount
        Order.objects.filter(pk=order.pk).update(refunded_total=order.refunded_total)
    return refund


def _invalidate(
    ctx: StoryContext, order: Order, tickets: list[Ticket], reason: str, action: str, at: datetime, staff
) -> None:
    ctx.clock.at = at + timedelta(minutes=1)
    for ticket in tickets:
        ticket.status, ticket.invalid_reason = Ticket.Status.INVALID, reason
        timeline_record(
            order=order,
            action=action,
            actor=staff if action == "ticket.invalidated" else None,
            data={"ticket": ticket.public_id},
        )
    Ticket.objects.bulk_update(tickets, ["status", "invalid_reason"])


def _transfer(ctx: StoryContext, order: Order, ticket: Ticket, at: datetime) -> None:
    """The holder passed the ticket on: it becomes invalid and a new ticket is issued to the new holder."""
    to = ctx.b.people.name()
    ctx.clock.at = at
    ticket.status, ticket.invalid_reason = Ticket.Status.INVALID, Kind.TRANSFERRED
    ticket.save(update_fields=["status", "invalid_reason"])
    Ticket.objects.create(
        organisation_id=order.organisation_id,
        event_id=order.event_id,
        order=order,
        line=ticket.line,
        ticket_type=ticket.ticket_type,
        public_id=ctx.b.code(len(ticket.public_id)),
        attendee_name=to,
    )
    timeline_record(
        order=order,
        action="ticket.transfer_created",
        actor=ctx.rng.choice(ctx.agents),
        data={"ticket": ticket.public_id, "to": to},
    )
