"""The crowd: the many plain orders around the interesting ones (paid with the tickets email delivered, or
reservations that timed out), written in bulk so the demo seeds in seconds.

Every row is what the services write for the same story (`tests/test_seed_demo.py` compares a crowd
order with one walked through the services), built in memory and inserted a table at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from notifications.models import DeliveryEvent, MessageStatus, OutgoingMessage
from notifications.services import IncomingEvent, message_timeline_data
from orders.capacity import capacity_left
from orders.models import Order, OrderEmailStatus, OrderLine, Payment, TimelineEntry
from orders.pricing import line_amounts
from orders.services import LineRequest
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from tickets.models import Ticket

from .mail import PROVIDER
from .money import demo_payment, processing_fee

if TYPE_CHECKING:
    from .context import StoryContext

EXPIRED_REASON = "reservation timed out after 15 minutes"


@dataclass
class _Planned:
    order: Order
    lines: list[OrderLine] = field(default_factory=list)
    tickets: list[list[Ticket]] = field(default_factory=list)  # per line
    payment: Payment | None = None
    message: OutgoingMessage | None = None
    mail: str = ""  # delivered / opened / clicked
    times: dict[str, datetime] = field(default_factory=dict)


def crowd_orders(ctx: StoryContext, count: int) -> list[Order]:
    """`count` plain orders for ctx.event: about nine in ten paid (tickets delivered, or held), the rest expired."""
    rng, event = ctx.rng, ctx.event
    left = capacity_left(ctx.ticket_types)  # the stories sold first; the crowd takes only what is free
    planned = [_plan(ctx, left, expired=rng.random() < 0.1) for _ in range(count)]
    Order.objects.bulk_create([p.order for p in planned])
    for p in planned:
        for line in p.lines:
            line.order = p.order
    OrderLine.objects.bulk_create([line for p in planned for line in p.lines])
    tickets = []
    for p in planned:
        for line, line_tickets in zip(p.lines, p.tickets):
            for ticket in line_tickets:
                ticket.order, ticket.line = p.order, line
                tickets.append(ticket)
    Ticket.objects.bulk_create(tickets)
    payments = [p.payment for p in planned if p.payment]
    for p in planned:
        if p.payment:
            p.payment.order = p.order
    Payment.objects.bulk_create(payments)
    for p in planned:
        if p.message:
            p.message.order = p.order
    OutgoingMessage.objects.bulk_create([p.message for p in planned if p.message])
    entries: list[TimelineEntry] = []
    events: list[DeliveryEvent] = []
    for p in planned:
        entries += _timeline(p)
        if p.message:
            events += _delivery_events(ctx, p)
    TimelineEntry.objects.bulk_create(entries)
    DeliveryEvent.objects.bulk_create(events)
    del event
    return [p.order for p in planned]


def _within_capacity(requests: list[LineRequest], left: dict[int, int | None]) -> list[LineRequest]:
    """`requests` cut to what the ticket types have left (`left`, counted down as the crowd sells), a type that
    is sold out dropped: the crowd never sells past a capacity, as order_create's capacity check would refuse."""
    fitted = []
    for request in requests:
        free = left[request.ticket_type.pk]
        quantity = request.quantity if free is None else min(request.quantity, free)
        if quantity > 0:
            fitted.append(LineRequest(request.ticket_type, quantity))
            if free is not None:
                left[request.ticket_type.pk] = free - quantity
    return fitted


def _plan(ctx: StoryContext, left: dict[int, int | None], *, expired: bool) -> _Planned:
    rng, event, b = ctx.rng, ctx.event, ctx.b
    contact = b.people.contact(event.organisation)
    created = ctx.sale_time("crowd", "")
    order = Order(
        organisation_id=event.organisation_id,
        event=event,
        code=b.code(ORDER_CODE_LENGTH),
        currency=event.currency,
        created_at=created,
        **contact,
    )
    p = _Planned(order=order)
    p.times["created"] = created
    total = Decimal("0")
    requests = ctx.lines("crowd")
    if not expired:  # an expired reservation holds no capacity
        fitted = _within_capacity(requests, left)
        requests, expired = (fitted, False) if fitted else (requests, True)  # sold out: the reservation timed out
    for request in requests:
        tt = request.ticket_type
        amounts = line_amounts(
            price=tt.price,
            booking_fee=tt.booking_fee,
            tax_rate=tt.tax_rate,
            quantity=request.quantity,
            currency=order.currency,
        )
        line = OrderLine(
            organisation_id=order.organisation_id,
            ticket_type=tt,
            quantity=request.quantity,
            unit_price=amounts.unit_price,
            booking_fee=amounts.booking_fee,
            tax=amounts.tax,
        )
        p.lines.append(line)
        total += line.gross
    order.total = total
    if expired:
        order.status = Order.Status.EXPIRED
        p.times["expired"] = created + timedelta(minutes=15)
        p.tickets = [[] for _ in p.lines]
        return p
    pay_at = created + timedelta(seconds=rng.randint(40, 300))
    confirming_at = pay_at + timedelta(seconds=rng.randint(5, 40))
    paid_at = confirming_at + timedelta(seconds=rng.randint(45, 120))
    p.times.update(pay=pay_at, confirming=confirming_at, paid=paid_at)
    order.status, order.paid_at = Order.Status.PAID, paid_at
    provider, method, prefix = demo_payment(rng.choice(["stripe", "stripe", "paypal"]))
    p.payment = Payment(
        organisation_id=order.organisation_id,
        provider=provider,
        method=method,
        reference=f"{prefix}_{b.code(14)}",
        amount=total,
        processing_fee=processing_fee(total, order.currency),
        status=Payment.Status.CONFIRMED,
        created_at=pay_at,
        confirmed_at=paid_at,
    )
    for line in p.lines:
        tt = line.ticket_type
        line_tickets = []
        for i in range(line.quantity):
            ticket = Ticket(
                organisation_id=order.organisation_id,
                event_id=event.pk,
                ticket_type=tt,
                public_id=b.code(TICKET_ID_LENGTH),
                attendee_name="" if tt.requires_personal_data else order.contact_name,
                created_at=paid_at,
            )
            if tt.requires_personal_data and rng.random() < 0.75:
                person = b.people.attendee(first=i == 0 and line is p.lines[0], order=order)
                ticket.attendee_name, ticket.attendee_email = person["name"], person["email"]
                ticket.attendee_data = {"company": person["company"], "job_title": person["job_title"]}
            ticket.personal_data_missing = tt.requires_personal_data and not ticket.attendee_name
            line_tickets.append(ticket)
        p.tickets.append(line_tickets)
    if not event.send_tickets_automatically:
        order.tickets_held = True
        return p
    p.mail = rng.choices(["delivered", "opened", "clicked"], weights=[55, 30, 15])[0]
    queued = paid_at
    sent = queued + timedelta(seconds=rng.randint(3, 19))
    delivered = sent + timedelta(seconds=rng.randint(3, 180))
    p.times.update(queued=queued, sent=sent, delivered=delivered)
    p.message = OutgoingMessage(
        organisation_id=order.organisation_id,
        kind=OutgoingMessage.Kind.TICKETS,
        recipient=order.contact_email,
        status=MessageStatus.DELIVERED,
        provider=PROVIDER,
        provider_message_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        attempts=1,
        created_at=queued,
        sent_at=sent,
        status_at=delivered,
    )
    if p.mail in ("opened", "clicked"):
        p.message.opened_at = min(delivered + timedelta(minutes=rng.randint(1, 600)), b.now)
    if p.mail == "clicked" and p.message.opened_at:
        p.message.clicked_at = min(p.message.opened_at + timedelta(seconds=rng.randint(5, 300)), b.now)
    order.email_status = OrderEmailStatus.DELIVERED
    return p


def _entry(p: _Planned, action: str, when: datetime, data: dict, actor_kind: str = TimelineEntry.ActorKind.SYSTEM):
    return TimelineEntry(
        organisation_id=p.order.organisation_id,
        order=p.order,
        actor_kind=actor_kind,
        action=action,
        data=data,
        created_at=when,
    )


def _timeline(p: _Planned) -> list[TimelineEntry]:
    """The entries order_create, order_start_payment, order_mark_confirming_payment, order_mark_paid / order_expire
    and the message pipeline write for this story, in the same words and data."""
    t, total = p.times, str(p.order.total)
    entries = [_entry(p, "order.reserved", t["created"], {"total": total})]
    if "expired" in t:
        return entries + [_entry(p, "order.expired", t["expired"], {"reason": EXPIRED_REASON})]
    if p.payment is None:
        raise ValueError(f"Order {p.order.code} was paid but has no payment planned")
    entries += [
        _entry(p, "order.processing_payment", t["pay"], {"provider": p.payment.provider}),
        _entry(p, "order.confirming_payment", t["confirming"], {}),
        _entry(p, "order.paid", t["paid"], {"total": total}),
    ]
    if p.order.tickets_held:
        return entries + [_entry(p, "order.tickets_held", t["paid"], {})]
    if p.message is None:
        raise ValueError(f"Order {p.order.code} sent its tickets but has no message planned")
    webhook = TimelineEntry.ActorKind.WEBHOOK
    return entries + [
        _entry(p, "email.queued", t["queued"], message_timeline_data(p.message)),
        _entry(p, "email.sent", t["sent"], message_timeline_data(p.message, reason="")),
        _entry(p, "email.delivered", t["delivered"], message_timeline_data(p.message, reason=""), webhook),
    ]


def _delivery_events(ctx: StoryContext, p: _Planned) -> list[DeliveryEvent]:
    message = p.message
    if message is None:
        raise ValueError(f"Order {p.order.code} has delivery events but no message planned")
    kinds = [(DeliveryEvent.Type.DELIVERED, p.times["delivered"])]
    if message.opened_at:
        kinds.append((DeliveryEvent.Type.OPENED, message.opened_at))
    if message.clicked_at:
        kinds.append((DeliveryEvent.Type.CLICKED, message.clicked_at))
    events = []
    for event_type, when in kinds:
        event_id = str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))
        raw = {
            "RecordType": event_type,
            "ID": event_id,
            "MessageID": message.provider_message_id,
            "Recipient": message.recipient,
            "Details": "",
            "Metadata": {"portal_message_id": str(message.pk)},
        }
        incoming = IncomingEvent(
            provider=PROVIDER,
            event_type=event_type,
            occurred_at=when,
            recipient=message.recipient,
            event_id=event_id,
            raw=raw,
        )
        events.append(
            DeliveryEvent(
                organisation_id=message.organisation_id,
                message=message,
                event_type=event_type,
                occurred_at=when,
                provider=PROVIDER,
                dedup_key=incoming.dedup_key(),
                raw=raw,
                received_at=when + timedelta(seconds=1),
            )
        )
    return events
