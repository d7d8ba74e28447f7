"""Before the doors open: the orders of an event whose guests may have no working tickets, and why.

An order is at risk when it is paid and
- its tickets email (the latest) hard-bounced, was rejected, failed, or was marked as spam (complaint);
- its tickets email is still deferred AT_RISK_DEFERRED_HOURS after it was queued (a later delivery would
  have moved it on); or
- a valid ticket still misses the attendee details its type requires (Ticket.personal_data_missing).
Not at risk: cancelled, refunded, expired or unpaid orders (no tickets to fix), orders held for review (they
wait visibly on the guest list), emails delivered, on their way, or deferred for less than that.

Each reason is one branch of a UNION ALL, each on a small partial index: failed emails and stale deferrals on
order_event_at_risk (paid orders whose email failed or is deferred: a few percent of an event), missing details
on ticket_data_missing. The counts walk those indexes once; a page walks them newest first and stops after the
page (keyset paging), so the list costs what the at-risk orders cost, not the event's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from notifications.models import OutgoingMessage
from orders.models import Order, OrderEmailStatus
from organiser_portal.keyset import beyond, cursor, parse_cursor
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


def _branches(event_ids: Sequence[int], after: tuple[datetime, int] | None = None) -> dict[str, QuerySet]:
    """The kinds of at-risk rows as querysets of (order id, event id, created at, reason code), each on its index:
    "failed" (the email reasons but deferral) and "deferred" on the partial order_event_at_risk index, "missing"
    details on the partial ticket_data_missing index, and "overlap": the orders with missing details that are at
    risk by their email too (so a count adds each order once). `after`: only orders past this keyset cursor."""
    paid = Order.objects.filter(event_id__in=event_ids, status=Order.Status.PAID)
    if after is not None:
        paid = paid.filter(beyond("created_at", *after, descending=True))
    # "deferred" is the order's latest tickets email: it is stale when no tickets email of the order is newer than
    # the cutoff. One probe per deferred order into the (order, created_at) index: bounded by the event's
    # deferrals, however many emails went out recently (a hashed set of recent emails grew with a bulk send).
    newer = OutgoingMessage.objects.filter(
        order=OuterRef("pk"), created_at__gte=deferred_cutoff(), kind__in=OutgoingMessage.TICKET_KINDS
    )
    stale = Q(email_status=EmailStatus.DEFERRED) & ~Exists(newer)
    failed = paid.filter(email_status__in=FAILED_EMAIL).annotate(reason=F("email_status"))
    deferred = paid.filter(stale).annotate(reason=Value(EmailStatus.DEFERRED.value, output_field=CharField()))
    tickets = Ticket.objects.filter(event_id__in=event_ids, personal_data_missing=True, status=Ticket.Status.VALID)
    missing = paid.filter(pk__in=tickets.values("order_id"))
    overlap = missing.filter(Q(email_status__in=FAILED_EMAIL) | stale)
    parts = {
        "failed": failed,
        "deferred": deferred,
        "missing": missing.annotate(reason=Value("data_missing", output_field=CharField())),
        "overlap": overlap.annotate(reason=Value("overlap", output_field=CharField())),
    }
    columns = ("pk", "event_id", "created_at", "reason")
    return {name: qs.order_by().values_list(*columns) for name, qs in parts.items()}


def _union_all(parts: Sequence[QuerySet], select: str = "*", group: str = "") -> tuple[str, list]:
    """One statement of `SELECT <select> FROM (<part>) [GROUP BY <group>]` per part, joined by UNION ALL."""
    compiled = [part.query.sql_with_params() for part in parts]
    grouping = f" GROUP BY {group}" if group else ""
    sql = " UNION ALL ".join(f"SELECT {select} FROM ({s}) AS part{i}{grouping}" for i, (s, _p) in enumerate(compiled))
    return sql, [p for _s, params in compiled for p in params]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _count_rows(event_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per event, orders per reason code, and "overlap" (counted under two reasons): one statement of small
    index-only counts, no DISTINCT over the union."""
    sql, params = _union_all(list(_branches(event_ids).values()), "event_id, reason, COUNT(*)", "event_id, reason")
    counts: dict[int, dict[str, int]] = {}
    for event_id, reason, n in _fetch(sql, params):
        counts.setdefault(event_id, {})[reason] = n
    return counts


def _total(counts: dict[str, int]) -> int:
    return sum(n for reason, n in counts.items() if reason != "overlap") - counts.get("overlap", 0)


def at_risk_counts(events: Sequence[Event]) -> dict[int, int]:
    """At-risk orders per event (by event id), for My events: one statement for all of them."""
    if not events:
        return {}
    return {event_id: _total(counts) for event_id, counts in _count_rows([e.pk for e in events]).items()}


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
    next_cursor: str | None = None  # the page after this one starts after it (keyset, newest first)
    first_page: bool = True


def at_risk_orders(
    access: Access, event: Event, *, reason: str = "", after: str | None = None, page_size: int = 50
) -> AtRiskList:
    """One page of the event's at-risk orders (newest order first, keyset paging from the cursor `after`), each
    with its reasons and latest tickets email; `reason` (a REASONS code) keeps the orders with that reason.
    404 for an event `access` can't see. Three queries: the counts, the page's rows (each branch walks its
    index newest first and stops after the page), the page's orders with their latest tickets emails."""
    if event.organisation_id != access.organisation.pk or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    counts = _count_rows([event.pk]).get(event.pk, {})
    total = _total(counts)
    counts.pop("overlap", None)
    mark = parse_cursor(after)
    branches = _branches([event.pk], mark)
    parts = [branches["failed"], branches["deferred"], branches["missing"]]
    if reason:  # the branch of that reason, narrowed to it
        parts = [b.filter(reason=reason) for b in parts]
    # An order has at most two rows (one email reason, missing details): 2 × page + 1 rows fill a page.
    limit = 2 * page_size + 1
    sql, params = _union_all([b.order_by("-created_at", "-pk")[:limit] for b in parts])
    rows = _fetch(f"SELECT * FROM ({sql}) AS at_risk ORDER BY 3 DESC, 1 DESC LIMIT {limit}", params)
    reasons: dict[int, set[str]] = {}
    created: dict[int, datetime] = {}
    for order_id, _event_id, created_at, code in rows:
        if order_id not in reasons and len(reasons) == page_size:
            break
        reasons.setdefault(order_id, set()).add(code)
        created[order_id] = created_at
    more = len(reasons) == page_size and len(rows) > sum(len(r) for r in reasons.values())
    shown = list(reasons)
    orders = Order.objects.filter(pk__in=shown).only(
        "pk",
        "code",
        "organisation_id",
        "event_id",
        "customer_id",
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
    listed = [
        AtRiskRow(by_id[i], [code for code in REASONS if code in reasons[i]], latest.get(i))
        for i in shown
        if i in by_id
    ]
    next_cursor = cursor(listed[-1].order, "created_at") if more and listed else None
    total = counts.get(reason, 0) if reason else total
    return AtRiskList(rows=listed, total=total, counts=counts, next_cursor=next_cursor, first_page=mark is None)


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
