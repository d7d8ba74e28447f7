"""Before the doors open: the orders of an event whose guests may have no working tickets, and why.

An order is at risk when it is paid and
- its tickets email (the latest) hard-bounced, was rejected, failed, or was marked as spam (complaint);
- its tickets email is still deferred AT_RISK_DEFERRED_HOURS after it was queued (a later delivery would
  have moved it on); or
- a valid ticket still misses the attendee details its type requires (Ticket.personal_data_missing).
Not at risk: cancelled, refunded, expired or unpaid orders (no tickets to fix), orders held for review (they
wait visibly on the guest list), emails delivered, on their way, or deferred for less than that.

One query collects every reason of every at-risk order of the events asked about: a UNION of three index
walks (the (event, email_status) index for the first two, the partial ticket_data_missing index for the
third), so the list and the My events counts cost what the few at-risk orders cost, not the event's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.http import Http404
from django.utils import timezone

from notifications.models import OutgoingMessage
from orders.models import Order, OrderEmailStatus
from organiser_portal.models import Event
from organiser_portal.permissions import Access
from tickets.models import Ticket

EmailStatus = OrderEmailStatus

# Reason codes, in the order a row lists them, with the words the page shows.
REASONS: dict[str, str] = {
    EmailStatus.BOUNCED: "Email bounced",
    EmailStatus.REJECTED: "Email rejected",
    EmailStatus.FAILED: "Email failed",
    EmailStatus.COMPLAINED: "Marked as spam",
    EmailStatus.DEFERRED: "Email still deferred",
    "data_missing": "Attendee details missing",
}
FAILED_EMAIL = (EmailStatus.BOUNCED, EmailStatus.REJECTED, EmailStatus.FAILED, EmailStatus.COMPLAINED)


def deferred_cutoff() -> datetime:
    """A ticket email queued before this and still deferred is at risk."""
    return timezone.now() - timedelta(hours=settings.AT_RISK_DEFERRED_HOURS)


def _union(event_ids: Sequence[int]) -> tuple[str, list]:
    """SQL and parameters of (order id, event id, created at, reason code) rows: one row per reason."""
    paid = Order.objects.filter(event_id__in=event_ids, status=Order.Status.PAID).order_by()
    failed = paid.filter(email_status__in=FAILED_EMAIL).annotate(reason=F("email_status"))
    newer = OutgoingMessage.objects.filter(
        order=OuterRef("pk"), kind__in=OutgoingMessage.TICKET_KINDS, created_at__gte=deferred_cutoff()
    )
    deferred = (
        paid.filter(email_status=EmailStatus.DEFERRED)
        .filter(~Exists(newer))
        .annotate(reason=Value(EmailStatus.DEFERRED.value, output_field=CharField()))
    )
    missing = (
        Ticket.objects.filter(
            event_id__in=event_ids,
            personal_data_missing=True,
            status=Ticket.Status.VALID,
            order__status=Order.Status.PAID,
        )
        .order_by()
        .annotate(reason=Value("data_missing", output_field=CharField()))
        .values_list("order_id", "event_id", "order__created_at", "reason")
    )
    columns = ("pk", "event_id", "created_at", "reason")
    parts = [failed.values_list(*columns).query, deferred.values_list(*columns).query, missing.query]
    compiled = [part.sql_with_params() for part in parts]
    sql = " UNION ".join(f"SELECT * FROM ({s}) AS part{i}" for i, (s, _p) in enumerate(compiled))
    return sql, [p for _s, params in compiled for p in params]


def _rows(event_ids: Sequence[int]) -> list[tuple[int, int, datetime, str]]:
    if not event_ids:
        return []
    sql, params = _union(event_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def at_risk_counts(events: Sequence[Event]) -> dict[int, int]:
    """At-risk orders per event (by event id), for My events: one query for all of them."""
    orders: dict[int, set[int]] = {}
    for order_id, event_id, _created, _reason in _rows([e.pk for e in events]):
        orders.setdefault(event_id, set()).add(order_id)
    return {event_id: len(ids) for event_id, ids in orders.items()}


@dataclass
class AtRiskRow:
    order: Order
    reasons: list[str]  # reason codes (REASONS), in its order
    message: OutgoingMessage | None  # the latest tickets email: its status reason and time

    @property
    def reason_words(self) -> list[str]:
        return [REASONS[r] for r in self.reasons]

    @property
    def email_problem(self) -> bool:
        return any(r != "data_missing" for r in self.reasons)


@dataclass
class AtRiskList:
    rows: list[AtRiskRow]
    total: int  # at-risk orders of the event under the reason filter
    counts: dict[str, int] = field(default_factory=dict)  # orders per reason code (all reasons)
    page: int = 1
    pages: int = 1


def at_risk_orders(
    access: Access, event: Event, *, reason: str = "", page: int = 1, page_size: int = 100
) -> AtRiskList:
    """One page of the event's at-risk orders (newest order first), each with its reasons and latest tickets
    email; `reason` (a REASONS code) keeps the orders with that reason. 404 for an event `access` can't see.
    Three queries: the reasons, the page's orders, their latest tickets emails."""
    if event.organisation_id != access.organisation.pk or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    reasons: dict[int, set[str]] = {}
    created: dict[int, datetime] = {}
    for order_id, _event_id, created_at, code in _rows([event.pk]):
        reasons.setdefault(order_id, set()).add(code)
        created[order_id] = created_at
    counts: dict[str, int] = {}
    for codes in reasons.values():
        for code in codes:
            counts[code] = counts.get(code, 0) + 1
    ids = [i for i in reasons if not reason or reason in reasons[i]]
    ids.sort(key=lambda i: (created[i], i), reverse=True)
    pages = max(1, -(-len(ids) // page_size))
    page = max(1, min(page, pages))
    shown = ids[(page - 1) * page_size : page * page_size]
    orders = Order.objects.filter(pk__in=shown).only(
        "pk",
        "code",
        "organisation_id",
        "event_id",
        "contact_name",
        "contact_email",
        "contact_phone",
        "status",
        "email_status",
        "refunded_total",
        "created_at",
    )
    by_id = {o.pk: o for o in orders}
    latest = _latest_ticket_messages(shown)
    rows = [
        AtRiskRow(by_id[i], [code for code in REASONS if code in reasons[i]], latest.get(i))
        for i in shown
        if i in by_id
    ]
    return AtRiskList(rows=rows, total=len(ids), counts=counts, page=page, pages=pages)


def _latest_ticket_messages(order_ids: Sequence[int]) -> dict[int, OutgoingMessage]:
    if not order_ids:
        return {}
    messages = (
        OutgoingMessage.objects.filter(order_id__in=order_ids, kind__in=OutgoingMessage.TICKET_KINDS)
        .only("pk", "order_id", "recipient", "status", "status_reason", "status_at", "created_at")
        .order_by("order_id", "-created_at", "-id")
    )
    if connection.vendor == "postgresql":
        messages = messages.distinct("order_id")
    latest: dict[int, OutgoingMessage] = {}
    for message in messages:
        latest.setdefault(message.order_id, message)  # type: ignore[arg-type]
    return latest
