"""After the sale: refunds (full, partial, failed, still running), cancellations, transfers and invalidated
tickets, through the order actions (orders.services: order_refund, order_cancel) and the refund lifecycle's one
mover (orders.refunds.refund_move), which walks each refund as its payment provider would have answered. The
demo's card payments go through the sandbox provider, its PayPal ones through the records-only PayPal provider;
the demo payment provider's processing fee is here too."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.db import transaction

from notifications.models import OutgoingMessage
from orders.models import Order, Refund, TimelineEntry
from orders.payment_providers import provider_for
from orders.refund_emails import refund_email_key
from orders.refunds import refund_move
from orders.services import order_cancel, order_refund, ticket_reissue, ticket_transfer
from orders.timeline import timeline_record
from organiser_portal.codes import ALPHABET, TICKET_ID_LENGTH
from organiser_portal.money import money_round
from tickets.models import Ticket, TicketReplacement
from tickets.services import tickets_invalidate
from tickets.transfers import replacement_email_key

from .mail import MailStory, deliver
from .people import DOMAINS, email_local_part
from .specs import ANNA_CODE, DEMO_ORG_SLUG

if TYPE_CHECKING:
    from .clock import Clock
    from .context import Builder, StoryContext

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
    """The holder passed the ticket on: a support agent transferred it (tickets.transfers), and the new holder's
    email was delivered."""
    to = ctx.b.people.name()
    new_id = ctx.b.code(len(ticket.public_id))
    agent = ctx.rng.choice(ctx.agents)
    ctx.clock.at = at
    # By the order's code, not its id: a fresh seed (other ids) gives the same address.
    email = f"{email_local_part(to) or 'guest'}@{DOMAINS[zlib.crc32(order.code.encode()) % len(DOMAINS)]}"
    transfer = ticket_transfer(actor=agent, ticket=ticket, name=to, email=email, idempotency_key=f"demo-{order.code}-t")
    _rename(transfer, new_id, "ticket.transfer_created")
    aside = _Aside(ctx.b, ctx.clock, f"transfer {order.code}")
    deliver(cast("StoryContext", aside), _email_of(transfer), MailStory.DELIVERED, at + timedelta(minutes=1))
    ctx.clock.at = at


def demo_reissue(b: Builder, clock: Clock) -> TicketReplacement | None:
    """The demo's reissued ticket: its QR code was posted online, so a support agent reissued it and the new one
    was emailed to its holder (opened). Run after every order and scan exists, on the first order (by code) of
    an event still to come with two valid tickets, with a generator of its own: the seeded data stays as it was."""
    orders = Order.objects.filter(
        organisation__slug=DEMO_ORG_SLUG, status=Order.Status.PAID, tickets_held=False, refunded_total=0
    ).filter(event__starts_at__gt=b.now)
    for order in orders.exclude(code=ANNA_CODE).select_related("event").order_by("code"):
        tickets = list(order.tickets.filter(status=Ticket.Status.VALID, used_at=None).order_by("id"))
        if len(tickets) < 2 or len(tickets) != order.tickets.count() or order.paid_at is None:
            continue
        aside = _Aside(b, clock, f"reissue {order.code}")
        at = min(order.paid_at + timedelta(days=aside.rng.randint(1, 4)), b.now - timedelta(hours=2))
        clock.at = at
        agent = aside.rng.choice([b.users["support@demo.example"], b.users["manager@demo.example"]])
        reissue = ticket_reissue(actor=agent, ticket=tickets[-1], send_email=True, idempotency_key="demo-reissue")
        _rename(reissue, "".join(aside.rng.choice(ALPHABET) for _ in range(TICKET_ID_LENGTH)), "ticket.reissued")
        deliver(cast("StoryContext", aside), _email_of(reissue), MailStory.OPENED, at)
        return reissue
    return None


class _Aside:
    """What `deliver` reads of a story, with a generator of its own seeded by `seed`: what the transfer's and the
    reissue's emails draw leaves the demo's seeded sequence, and so every later order, as it was."""

    def __init__(self, b: Builder, clock: Clock, seed: str) -> None:
        self.b, self.clock = b, clock
        self.rng = random.Random(seed)


def _email_of(replacement: TicketReplacement) -> OutgoingMessage | None:
    return replacement.order.messages.filter(idempotency_key=replacement_email_key(replacement)).first()


def _rename(replacement: TicketReplacement, public_id: str, action: str) -> None:
    """The new ticket's ID from the demo's seeded generator (a fresh seed prints the same IDs, as
    story._name_tickets does for issued ones), in the ticket and the entry written for it a moment ago."""
    drawn = replacement.new_ticket.public_id
    Ticket.objects.filter(pk=replacement.new_ticket_id).update(public_id=public_id)
    for entry in TimelineEntry.objects.filter(order=replacement.order_id, action=action, data__new_ticket=drawn):
        TimelineEntry.objects.filter(pk=entry.pk).update(data={**entry.data, "new_ticket": public_id})
    replacement.new_ticket.public_id = public_id
