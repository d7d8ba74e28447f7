"""Reads of orders, always through the user's Access: another organisation's or region's order is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from notifications.models import DeliveryEvent, OutgoingMessage, Suppression
from notifications.selectors import suppressions_for
from organiser_portal.compiled_queries import CompiledQuery
from organiser_portal.models import Event, Organisation
from organiser_portal.permissions import Access
from tickets.models import Scan, Ticket, TicketReplacement

from .models import EMAIL_IN_FLIGHT, ZERO, BulkSend, Order, OrderLine, Payment, Refund, TimelineEntry
from .timeline import ScanEntry, describe, scan_entry


def orders_visible(access: Access) -> QuerySet[Order]:
    """Every order this access lists: its organisation, and only its regions when it is region-limited or a
    region is chosen (Access.listed_region_ids). One order by its code: `order_get`, whatever region is chosen."""
    orders = Order.objects.filter(organisation=access.organisation)
    if (region_ids := access.listed_region_ids) is not None:
        orders = orders.filter(event__region_id__in=region_ids)
    return orders


def order_get(access: Access, code: str) -> Order:
    """One visible order by its code, with its event and customer account; 404 otherwise. The region chosen
    for the session doesn't hide it (a link or an exact code must open what the membership allows)."""
    order = (
        orders_visible(access.without_region_choice())
        .select_related("event", "event__region", "customer")
        .filter(code=code)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


_SCAN_FIELDS = ("ticket_id", "scanned_at", "access_area", "access_point", "result", "reason", "device")
_SCAN_REASONS = dict(Scan.Reason.choices)


def _scans(tickets: Sequence[Ticket]) -> list[ScanEntry]:
    """Every scan of the tickets as timeline lines, newest first, in one query over the `scan_ticket_time`
    index; and on each ticket its newest scan's `last_scan_at`, `last_scan_area` and `last_scan_result`
    (None when never scanned). Read from the Scan rows: a check-in writes no timeline entry."""
    for ticket in tickets:
        ticket.last_scan_at = ticket.last_scan_area = ticket.last_scan_result = None  # type: ignore[attr-defined]
    if not tickets:
        return []
    by_id = {t.pk: t for t in tickets}
    rows = Scan.objects.filter(ticket_id__in=list(by_id)).order_by("-scanned_at", "-id").values_list(*_SCAN_FIELDS)
    entries = []
    for ticket_id, scanned_at, area, point, result, reason, device in rows:
        ticket = by_id[ticket_id]
        if ticket.last_scan_at is None:  # type: ignore[attr-defined]
            ticket.last_scan_at, ticket.last_scan_area, ticket.last_scan_result = scanned_at, area, result  # type: ignore[attr-defined]
        entries.append(
            scan_entry(
                ticket=ticket.public_id,
                scanned_at=scanned_at,
                result=result,
                reason=_SCAN_REASONS.get(reason, reason),
                area=area,
                point=point,
                device=device,
            )
        )
    return entries


@dataclass(frozen=True)
class OrderDetail:
    """Everything the order page shows, loaded with a fixed number of queries whatever the order's size."""

    order: Order
    lines: list[OrderLine]
    tickets: Sequence[Ticket]
    messages: list[OutgoingMessage]
    timeline: list[TimelineEntry | ScanEntry]  # newest first: the entries and the tickets' door scans
    payments: list[Payment]
    refunds: list[Refund]

    @property
    def latest_ticket_message(self) -> OutgoingMessage | None:
        """The message behind "Order email status": the newest tickets / tickets_resend email."""
        return next((m for m in self.messages if m.kind in OutgoingMessage.TICKET_KINDS), None)

    @property
    def sms_in_flight(self) -> str:
        """ "<id>.<status>" of the latest SMS while it is in flight (queued … sent), else '': the page polls on it."""
        sms = next((m for m in self.messages if m.channel == OutgoingMessage.Channel.SMS), None)
        return f"{sms.pk}.{sms.status}" if sms is not None and sms.status in EMAIL_IN_FLIGHT else ""

    @property
    def sms_sent_at(self) -> list[datetime]:
        """When each of the order's SMS was written, newest first: what the per-order SMS limits count."""
        return [m.created_at for m in self.messages if m.channel == OutgoingMessage.Channel.SMS]

    @property
    def valid_ticket_count(self) -> int:
        return sum(1 for t in self.tickets if t.is_valid)

    @property
    def tickets_needing_data(self) -> int:
        return sum(1 for t in self.tickets if t.is_valid and t.ticket_type.requires_personal_data)

    @property
    def tickets_missing_data(self) -> int:
        """Valid tickets whose attendee details still lack something their type requires."""
        return sum(1 for t in self.tickets if t.is_valid and t.personal_data_missing)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.subtotal for line in self.lines), start=ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), start=ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((line.booking_fee for line in self.lines), start=ZERO)


def _lines(order: Order, tickets: Sequence[Ticket]) -> list[OrderLine]:
    """The order's lines. Every line of an order with tickets has its tickets (tickets_issue makes one per
    admission and none is ever deleted), so they come with the ticket query; otherwise one query."""
    if not tickets:
        return list(order.lines.select_related("ticket_type"))
    lines = {t.line_id: t.line for t in tickets}
    return sorted(lines.values(), key=lambda line: line.pk)


_MESSAGE_FIELDS = [f.attname for f in OutgoingMessage._meta.concrete_fields]
_EVENT_FIELDS = [f.attname for f in DeliveryEvent._meta.concrete_fields if f.name != "raw"]


# The order page's fixed-shape reads, compiled to SQL once per process (organiser_portal/compiled_queries.py):
# Django's compiling was a third of the page's CPU.
_ORDER = CompiledQuery(
    lambda organisation_id, code: (
        Order.objects.filter(organisation_id=organisation_id, code=code)
        .select_related("event", "event__region", "customer")
        # Most orders never see a refund: the annotation saves a query on those.
        .annotate(has_refunds=Exists(Refund.objects.filter(order=OuterRef("pk"))))
    )
)
_TICKETS = CompiledQuery(
    lambda order_id: Ticket.objects.filter(order_id=order_id).select_related("ticket_type", "line")
)
_TIMELINE = CompiledQuery(lambda order_id: TimelineEntry.objects.filter(order_id=order_id).select_related("actor"))
_PAYMENTS = CompiledQuery(lambda order_id: Payment.objects.filter(order_id=order_id))
# One LEFT JOIN instead of a query for messages and another for their events: the order page's query budget
# is tight, and a message has a handful of events.
_MESSAGE_ROWS = CompiledQuery(
    lambda order_id: (
        OutgoingMessage.objects.filter(order_id=order_id)
        .order_by("-created_at", "-id", "events__occurred_at", "events__id")
        .values_list(*_MESSAGE_FIELDS, *[f"events__{name}" for name in _EVENT_FIELDS])
    )
)


def _messages(order: Order) -> list[OutgoingMessage]:
    """The order's messages, newest first, each with its delivery events (`delivery_events`, oldest first)."""
    messages: dict[int, OutgoingMessage] = {}
    n = len(_MESSAGE_FIELDS)
    for row in _MESSAGE_ROWS.fetch(order.pk):
        message = messages.get(row[0])
        if message is None:
            message = OutgoingMessage.from_db("default", _MESSAGE_FIELDS, row[:n])
            message.delivery_events = []  # type: ignore[attr-defined]
            messages[row[0]] = message
        if row[n] is not None:
            message.delivery_events.append(DeliveryEvent.from_db("default", _EVENT_FIELDS, row[n:]))  # type: ignore[attr-defined]
    return list(messages.values())


def order_detail(access: Access, code: str) -> OrderDetail:
    """The order page's data: at most 7 queries (6 without refunds, 5 without tickets either), whatever
    the number of tickets, scans, messages, delivery events or timeline entries."""
    # The organisation's order by its unique code; a region-limited member's check follows on the event
    # (as orders_visible does it), so the SQL is the same for every member.
    order = next(iter(_ORDER.fetch(access.organisation.pk, code)), None)
    if order is None or not access.allows_region(order.event.region_id):
        raise Http404("No such order.")
    # Fetched by the member's organisation: it is the order's and its event's (Event.phone_region reads it).
    order.organisation = order.event.organisation = access.organisation
    tickets = _TICKETS.fetch(order.pk)
    for ticket in tickets:
        # A line's tickets are of its type: reuse the ticket's instead of joining the ticket types twice.
        if ticket.line.ticket_type_id == ticket.ticket_type_id:
            ticket.line.ticket_type = ticket.ticket_type
    # Every scan of the tickets in one query: each ticket's newest, and the timeline's door scans.
    scans = _scans(tickets)
    entries = _TIMELINE.fetch(order.pk)
    for entry in entries:
        entry.sentence = describe(entry.action, entry.data)  # type: ignore[attr-defined]
    timeline: list[TimelineEntry | ScanEntry] = sorted([*entries, *scans], key=_when, reverse=True)
    return OrderDetail(
        order=order,
        lines=_lines(order, tickets),
        tickets=tickets,
        messages=_messages(order),
        timeline=timeline,
        payments=_PAYMENTS.fetch(order.pk),
        refunds=list(order.refunds.select_related("requested_by").prefetch_related("tickets"))
        if order.has_refunds
        else [],
    )


def _when(entry: TimelineEntry | ScanEntry) -> datetime:
    return entry.created_at


def ticket_scans(access: Access, code: str, ticket_id: str) -> tuple[Order, Ticket, QuerySet[Scan]]:
    """A visible order's ticket and every scan of it, newest first."""
    order = order_get(access, code)
    ticket = Ticket.objects.filter(order=order, public_id=ticket_id).select_related("ticket_type").first()
    if ticket is None:
        raise Http404("No such ticket.")
    return order, ticket, ticket.scans.all()


def active_transfers(tickets: Sequence[Ticket]) -> dict[int, TicketReplacement]:
    """new ticket's id → its active transfer, for the tickets of one order (TicketReplacement). One query, and
    none at all when no ticket is "Invalid · transferred" (an active transfer's original always is)."""
    transferred = [t.pk for t in tickets if t.invalid_reason == Ticket.InvalidReason.TRANSFERRED]
    if not transferred:
        return {}
    rows = TicketReplacement.objects.filter(
        old_ticket_id__in=transferred, kind=TicketReplacement.Kind.TRANSFER, status=TicketReplacement.Status.ACTIVE
    )
    return {r.new_ticket_id: r for r in rows}


def ticket_replacement(order: Order, ticket: Ticket) -> TicketReplacement | None:
    """The transfer that issued `ticket` (active or cancelled), if any."""
    return TicketReplacement.objects.filter(
        order=order, new_ticket=ticket, kind=TicketReplacement.Kind.TRANSFER
    ).first()


def order_email_status(access: Access, code: str) -> str:
    """A visible order's "Order email status" alone (one indexed query): what the order page polls while in flight."""
    status = (
        orders_visible(access.without_region_choice()).filter(code=code).values_list("email_status", flat=True).first()
    )
    if status is None:
        raise Http404("No such order.")
    return status


def order_latest_sms_state(access: Access, code: str) -> str:
    """ "<id>.<status>" of a visible order's latest SMS, '' when it has none (one query): what the order page polls
    while an SMS is in flight."""
    orders = orders_visible(access.without_region_choice()).filter(code=code).values("pk")
    latest = (
        OutgoingMessage.objects.filter(order__in=orders, channel=OutgoingMessage.Channel.SMS)
        .order_by("-created_at", "-id")
        .values_list("pk", "status")
        .first()
    )
    return f"{latest[0]}.{latest[1]}" if latest else ""


def orders_email_statuses(access: Access, codes: Sequence[str]) -> dict[str, str]:
    """code → "Order email status" for the visible orders among `codes`, in one query (the guest table's poll)."""
    return dict(
        orders_visible(access.without_region_choice())
        .filter(code__in=list(codes)[:200])
        .values_list("code", "email_status")
    )


# --- Refunds: what the order page polls, and refunds stuck in "Confirming refund" -------------------------


def order_refund_states(access: Access, code: str) -> str:
    """A visible order's refunds as "id.status.attempt" pairs (one indexed query): what the order page polls
    while a refund is on its way; '' when it has none. Http404 for an order the access doesn't see."""
    orders = orders_visible(access.without_region_choice()).filter(code=code)
    rows = list(orders.values_list("refunds__id", "refunds__status", "refunds__attempt").order_by("refunds__id"))
    if not rows:
        raise Http404("No such order.")
    return ",".join(f"{pk}.{status}.{attempt}" for pk, status, attempt in rows if pk is not None)


def refund_stuck_before() -> datetime:
    """A refund confirming since before this moment is stuck (settings.REFUND_STUCK_AFTER_HOURS)."""
    return timezone.now() - timedelta(hours=settings.REFUND_STUCK_AFTER_HOURS)


def refunds_stuck(organisation: Organisation) -> QuerySet[Refund]:
    """The organisation's refunds stuck in "Confirming refund": few rows, found on the (status, status_changed_at)
    index. The Orders list's "Refund stuck" filter takes their orders."""
    return Refund.objects.filter(
        organisation=organisation, status=Refund.Status.CONFIRMING, status_changed_at__lt=refund_stuck_before()
    )


def refunds_stuck_count(access: Access) -> int:
    """How many orders this access lists have a refund stuck in "Confirming refund" (the header's flag)."""
    refunds = refunds_stuck(access.organisation)
    if (region_ids := access.listed_region_ids) is not None:
        refunds = refunds.filter(order__event__region_id__in=region_ids)
    return refunds.values("order_id").distinct().count()


# --- Bulk sends (orders/bulk.py) ---------------------------------------------------------------


@dataclass(frozen=True)
class BulkProgress:
    """A bulk send as its progress bar shows it."""

    bulk: BulkSend
    sent: int  # emails the email service has taken so far (sent, or further)

    @property
    def sending(self) -> bool:
        """Still moving: orders to work through, or queued emails waiting for their turn (the pacing)."""
        return not self.bulk.finished or self.sent < self.bulk.done

    @property
    def waiting(self) -> int:
        """Emails queued but not yet taken by the email service (waiting for their turn in the pacing)."""
        return max(self.bulk.done - self.sent, 0)

    @property
    def sent_percent(self) -> float:
        """Of the orders to send: emails the email service took."""
        return round(100 * self.sent / self.bulk.total, 1) if self.bulk.total else 0.0

    @property
    def queued_percent(self) -> float:
        """Of the orders to send: emails queued, waiting for their turn (the pacing)."""
        return round(100 * (self.bulk.done - self.sent) / self.bulk.total, 1) if self.bulk.total else 0.0


def bulk_send_progress(bulk: BulkSend) -> BulkProgress:
    """The job with how many of its emails went out: one query over its orders' (order, idempotency key) index."""
    ids = bulk.order_ids[: bulk.position]
    sent = 0
    if ids:
        waiting = [OutgoingMessage.Status.QUEUED, OutgoingMessage.Status.SENDING]
        messages = OutgoingMessage.objects.filter(order_id__in=ids, idempotency_key=bulk.message_key)
        sent = messages.exclude(status__in=waiting).count()
    return BulkProgress(bulk, sent)


def bulk_send_get(access: Access, event: Event, bulk_send_id: int) -> BulkSend:
    """One bulk send of the event (visible to `access`); 404 otherwise."""
    if event.organisation_id != access.organisation.pk or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    bulk = BulkSend.objects.select_related("created_by").filter(event=event, pk=bulk_send_id).first()
    if bulk is None:
        raise Http404("No such bulk send.")
    return bulk


def bulk_sends_recent(event: Event, *, hours: int = 24) -> list[BulkProgress]:
    """The event's bulk sends still moving or finished in the last `hours`, newest first, for the guest list."""
    since = timezone.now() - timedelta(hours=hours)
    rows = BulkSend.objects.select_related("created_by").filter(event=event, created_at__gte=since)[:5]
    return [bulk_send_progress(b) for b in rows]


def suppression_refusal(order: Order, address: str) -> str | None:
    """Why a resend to `address` will probably fail again (it is on the organisation's suppression list), or None."""
    listed = suppressions_for(order.organisation_id, [address]).get(address.lower())
    return None if listed is None else suppression_reason(listed)


def suppression_reason(listed: Suppression) -> str:
    """Why a resend to the listed address will probably fail again, in the resend dialog's words."""
    if listed.reason == listed.Reason.COMPLAINED:
        return f"{listed.address} marked an email as spam: confirm that the guest asked for the tickets again."
    return (
        f"{listed.address} hard-bounced ({listed.detail or 'the address does not exist'}): "
        "confirm to send to it anyway, or fix the address."
    )
