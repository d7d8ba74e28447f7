"""After the sale: refunds (full, partial, failed, still running), cancellations, transfers and invalidated
tickets, through the order actions (orders.services: order_refund, order_cancel) and the refund lifecycle's one
mover (orders.refunds.refund_move), which walks each refund as its payment provider would have answered. The
demo's card payments go through the sandbox provider, its PayPal ones through the records-only PayPal provider;
the demo payment provider's processing fee is here too."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from notifications.models import OutgoingMessage
from orders.models import Order, Refund, TimelineEntry
from orders.payment_providers import provider_for
from orders.refund_emails import refund_email_key
from orders.refunds import refund_move
from orders.services import order_cancel, order_refund
from orders.timeline import timeline_record
from organiser_portal.money import money_round
from tickets.models import Ticket
from tickets.services import tickets_invalidate

from .mail import MailStory, deliver

if TYPE_CHECKING:
    from .context import StoryContext

Kind = Ticket.InvalidReason
RefundStatus = Refund.Status

REFUND_REASONS = ("guest can't attend", "bought twice by mistake", "event date clashes", "illness")
REFUND_ERROR = "card expired: the payment provider could not return the money"
# How staff recorded a refund made outside the portal (records-only providers: PayPal).
RECORDED_NOTE = "refunded in PayPal"
# The stories whose refund is still on its way or failed: their payment is a card payment (the sandbox), never
# PayPal, whose refunds are recorded after the fact and succeed at once.
CARD_ONLY = frozenset({"refund_failed", "refund_requested", "refund_processing", "refund_confirming"})


def demo_payment(choice: str, story: str = "") -> tuple[str, str, str]:
    """The demo's payment for a seeded choice of "stripe" or "paypal": (provider key, method, reference prefix).
    Card payments go through the sandbox provider, so their refunds move in `make run` without an account."""
    if choice == "paypal" and story not in CARD_ONLY:
        return "paypal", "PayPal", "PAY"
    return "sandbox", "Card", "pi"


def processing_fee(total: Decimal, currency: str) -> Decimal:
    """What the demo's payment provider charges for a payment of `total`: 1.4 % plus 0.25."""
    return money_round(total * Decimal("0.014") + Decimal("0.25"), currency)


def refund_story(ctx: StoryContext, order: Order, story: str, tickets: list[Ticket], at: datetime) -> None:
    rng = ctx.rng
    staff = rng.choice(ctx.staff)
    if story == "refunded_full":
        # A full refund gives the booking fee back too, so the order ends Refunded. The draw is kept (it once
        # chose whether to): the seeded sequence, and so every later order code, stays as it was.
        rng.random()
        refund = _refund(ctx, order, tickets, at, staff, RefundStatus.SUCCEEDED, include_booking_fee=True)
        _deliver_refund_email(ctx, refund)
    elif story == "refunded_partial":
        refund = _refund(ctx, order, tickets[-1:], at, staff, RefundStatus.SUCCEEDED)
        _deliver_refund_email(ctx, refund)
    elif story == "cancelled_paid":
        ctx.clock.at = at
        key = f"demo-{order.pk}-cancel"
        order_cancel(
            actor=staff,
            order=order,
            refund=True,
            reason="event cancelled for this guest",
            note=_note(order),
            idempotency_key=key,
        )
        _walk(ctx, Refund.objects.get(order=order, idempotency_key=key), RefundStatus.SUCCEEDED, at)
        message = order.messages.get(kind=OutgoingMessage.Kind.CANCELLATION_NOTICE)
        deliver(ctx, message, MailStory.DELIVERED, at + timedelta(minutes=4))
    elif story == "refund_failed":
        _refund(ctx, order, tickets, at, staff, RefundStatus.FAILED)
    elif story in ("refund_requested", "refund_processing", "refund_confirming"):
        status = RefundStatus(story.removeprefix("refund_"))
        at = ctx.b.now - timedelta(minutes=rng.randint(5, 90))
        if status == RefundStatus.CONFIRMING:
            at -= timedelta(days=1)  # stuck: flagged on the order, in the header and in the Orders list
        _refund(ctx, order, tickets[-1:], at, staff, status)
    elif story == "transferred":
        _transfer(ctx, order, tickets[0], at)
    elif story == "invalidated":
        ctx.clock.at = at + timedelta(minutes=1)
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order.pk)
            for ticket in tickets_invalidate(tickets=tickets[:1], reason=Kind.NONE):
                timeline_record(
                    order=order, action="ticket.invalidated", actor=staff, data={"ticket": ticket.public_id}
                )


def _note(order: Order) -> str:
    payment = order.payments.first()
    return RECORDED_NOTE if payment is not None and provider_for(payment).records_refunds else ""


def _refund(
    ctx: StoryContext,
    order: Order,
    tickets: list[Ticket],
    at: datetime,
    staff,
    status: str,
    *,
    include_booking_fee: bool = False,
) -> Refund:
    """A refund asked for as a manager asks for it (order_refund), then walked to `status` (`_walk`)."""
    reason = ctx.rng.choice(REFUND_REASONS)
    ctx.clock.at = at
    refund = order_refund(
        actor=staff,
        order=order,
        tickets=[t.public_id for t in tickets],
        include_booking_fee=include_booking_fee,
        reason=reason,
        note=_note(order),
        idempotency_key=f"demo-{order.pk}-{order.refunds.count() + 1}",
    )
    for ticket in tickets:
        ticket.status, ticket.invalid_reason = Ticket.Status.INVALID, Kind.REFUNDED
    return _walk(ctx, refund, status, at)


def _walk(ctx: StoryContext, refund: Refund, status: str, at: datetime) -> Refund:
    """Move a requested refund to `status` through refund_move, as its provider's answers would have, 20 s apart:
    a records-only provider's refund succeeds at once (recorded by the staff member who asked); a card refund goes
    processing → confirming → succeeded, or fails while processing."""
    records = provider_for(refund.payment).records_refunds if refund.payment else False
    if records:
        steps = [RefundStatus.SUCCEEDED] if status == RefundStatus.SUCCEEDED else []
    else:
        path = [RefundStatus.PROCESSING, RefundStatus.CONFIRMING, RefundStatus.SUCCEEDED]
        if status == RefundStatus.FAILED:
            steps = [RefundStatus.PROCESSING, RefundStatus.FAILED]
        else:
            steps = path[: path.index(RefundStatus(status)) + 1] if status != RefundStatus.REQUESTED else []
    for i, step in enumerate(steps, start=1):
        ctx.clock.at = at + timedelta(seconds=20 * i)
        with transaction.atomic():
            locked = Order.objects.select_for_update().select_related("event").get(pk=refund.order_id)
            refund = Refund.objects.select_related("payment").get(pk=refund.pk)
            refund.order = locked
            if records:
                refund_move(refund, step, actor=refund.requested_by, actor_kind=TimelineEntry.ActorKind.USER)
            else:
                error = REFUND_ERROR if step == RefundStatus.FAILED else ""
                refund_move(refund, step, error=error, actor_kind=TimelineEntry.ActorKind.PROVIDER)
    return refund


def _deliver_refund_email(ctx: StoryContext, refund: Refund) -> None:
    """The refund email refund_move queued when the money went back, delivered a few minutes later."""
    message = refund.order.messages.filter(idempotency_key=refund_email_key(refund)).first()
    if message is not None:
        deliver(ctx, message, MailStory.DELIVERED, message.created_at + timedelta(minutes=3))


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
