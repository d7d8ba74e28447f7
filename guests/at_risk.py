"""Before the doors open: the orders of an event whose guests may have no working tickets, and why.

An order is at risk when it is paid and
- its tickets email (the latest) hard-bounced, was rejected, failed, or was marked as spam (complaint);
- its tickets email is still deferred AT_RISK_DEFERRED_HOURS after it was queued (a later delivery would
  have moved it on); or
- a valid ticket still misses the attendee details its type requires (Ticket.personal_data_missing).
Not at risk: cancelled, refunded, expired or unpaid orders (no tickets to fix), orders held for review (they
wait visibly on the guest list), emails delivered, on their way, or deferred for less than that.

The list puts the most urgent first: orders whose guests have no working tickets at all (the email failed, or is
still deferred: URGENT), then those whose tickets only miss attendee details (DETAILS); newest order first within
each. Each reason is one branch of a UNION ALL, each on a small partial index: failed emails and stale deferrals
(and the missing details of those orders) on order_event_at_risk (paid orders whose email failed or is deferred:
a few percent of an event), the other missing details on ticket_data_missing. The counts walk those indexes once;
a page walks them newest first and stops after the page (keyset paging on urgency, then order date), so the list
costs what the at-risk orders cost, not the event's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.models import OutgoingMessage
from orders.email_typos import suggest_email
from orders.models import Order, OrderEmailStatus
from organiser_portal.db import Table
from organiser_portal.keyset import cursor, parse_cursor
from organiser_portal.models import Event
from organiser_portal.permissions import Access
from tickets.models import Ticket

EmailStatus = OrderEmailStatus
M = TypeVar("M", bound=Model)

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
# The urgency a row sorts by: no working tickets (a failed or stale tickets email) before missing attendee details.
URGENT, DETAILS = 0, 1


def deferred_cutoff() -> datetime:
    """A ticket email queued before this and still deferred is at risk."""
    return timezone.now() - timedelta(hours=settings.AT_RISK_DEFERRED_HOURS)


# Hand-written SQL, portable (PostgreSQL and the embedded SQLite run the same text): the list is one statement, and
# the ORM spent more time compiling its eight subqueries than the database spent running them. The quoted values
# are the models' own status and kind codes, never input; names come from the models (organiser_portal.db.Table).
ORDER, TICKET, MESSAGE = Table(Order), Table(Ticket), Table(OutgoingMessage)


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_PAID = f"o.{ORDER.status} = '{Order.Status.PAID.value}'"
_FAILED_IN = f"o.{ORDER.email_status} IN ({_quoted(FAILED_EMAIL)})"
# Paid orders whose email failed or is deferred: the predicate of the partial index order_event_at_risk.
_EMAIL_AT_RISK = f"{_PAID} AND o.{ORDER.email_status} IN ({_quoted((*FAILED_EMAIL, EmailStatus.DEFERRED))})"
# "Deferred" is the order's latest tickets email: it is stale when no tickets email of the order is newer than the
# cutoff (the one parameter). One probe per deferred order into the message's (order, created_at) index: bounded by
# the event's deferrals, however many emails went out recently.
_STALE = f"""(o.{ORDER.email_status} = '{EmailStatus.DEFERRED.value}' AND NOT EXISTS (
    SELECT 1 FROM {MESSAGE} m WHERE m.{MESSAGE.order} = o.{ORDER.id} AND m.{MESSAGE.created_at} >= %s
       AND m.{MESSAGE.kind} IN ({_quoted(sorted(OutgoingMessage.TICKET_KINDS))})))"""
# Valid tickets still missing their attendee details, on the partial index ticket_data_missing.
_MISSING = f"""o.{ORDER.id} IN (SELECT t.{TICKET.order} FROM {TICKET} t WHERE t.{TICKET.event} IN ({{events}})
    AND t.{TICKET.personal_data_missing} = TRUE AND t.{TICKET.status} = '{Ticket.Status.VALID.value}')"""

# Per event: orders per email reason, then (a second row) orders missing details and how many of those are at risk
# by their email too ("overlap", so a total adds each order once). Each walks its small partial index once.
COUNT_COLUMNS = (*FAILED_EMAIL, EmailStatus.DEFERRED.value, "data_missing", "overlap")
_EMAIL_COUNTS = ", ".join(
    f"{count} AS n{i}"
    for i, count in enumerate(
        [f"COUNT(CASE WHEN o.{ORDER.email_status} = '{code}' THEN 1 END)" for code in FAILED_EMAIL]
        + [f"COUNT(CASE WHEN {_STALE} THEN 1 END)", "0", "0"]
    )
)
_COUNTS_SQL = f"""
SELECT o.{ORDER.event} AS event_id, {_EMAIL_COUNTS} FROM {ORDER} o
 WHERE o.{ORDER.event} IN ({{events}}) AND {_EMAIL_AT_RISK} GROUP BY o.{ORDER.event}
UNION ALL
SELECT o.{ORDER.event}, 0, 0, 0, 0, 0, COUNT(*), COUNT(CASE WHEN {_FAILED_IN} OR {_STALE} THEN 1 END) FROM {ORDER} o
 WHERE o.{ORDER.event} IN ({{events}}) AND {_PAID} AND {_MISSING} GROUP BY o.{ORDER.event}"""

# The tickets email failed or is stale: the order's guest has no working tickets (URGENT).
_NO_TICKETS = f"({_FAILED_IN} OR {_STALE})"

# One branch of a page per kind of reason, each walking its index newest first and stopping after `limit` rows;
# each branch has one urgency, so the cursor's urgency says which branches continue, start over or are done.
_KEYSET = f"AND o.{ORDER.created_at} <= %s AND (o.{ORDER.created_at} < %s OR o.{ORDER.id} < %s)"
_BRANCH = f"""SELECT * FROM (SELECT o.{ORDER.id} AS id, o.{ORDER.created_at} AS created_at, {{reason}} AS reason,
    {{urgency}} AS urgency FROM {ORDER} o WHERE o.{ORDER.event} = %s AND {{where}} {{keyset}}
    ORDER BY o.{ORDER.created_at} DESC, o.{ORDER.id} DESC LIMIT {{limit}}) AS {{name}}"""
ORDER_FIELDS = tuple(
    f.attname
    for f in Order._meta.concrete_fields
    if f.name
    in {"id", "organisation", "event", "code", "customer", "contact_name", "contact_email"}
    | {"contact_phone", "status", "email_status", "created_at"}
)
MESSAGE_FIELDS = tuple(
    f.attname
    for f in OutgoingMessage._meta.concrete_fields
    if f.name in {"id", "order", "recipient", "status", "status_reason", "status_at", "created_at"}
)


def _aliased(table: Table, alias: str, fields: Sequence[str]) -> str:
    return ", ".join(f"{alias}.{getattr(table, f)} AS {alias}_{getattr(table, f)}" for f in fields)


# The page's rows (order, reason) joined with the order's fields and its latest tickets email, after the counts.
_PAGE_SQL = f"""
SELECT r.reason, r.urgency, {_aliased(ORDER, "o", ORDER_FIELDS)}, {_aliased(MESSAGE, "m", MESSAGE_FIELDS)}
  FROM ({{branches}} ORDER BY 4, 2 DESC, 1 DESC LIMIT {{limit}}) AS r
  JOIN {ORDER} o ON o.{ORDER.id} = r.id
  LEFT JOIN {MESSAGE} m ON m.{MESSAGE.id} = (
       SELECT l.{MESSAGE.id} FROM {MESSAGE} l WHERE l.{MESSAGE.order} = r.id
          AND l.{MESSAGE.kind} IN ({_quoted(sorted(OutgoingMessage.TICKET_KINDS))})
        ORDER BY l.{MESSAGE.created_at} DESC, l.{MESSAGE.id} DESC LIMIT 1)"""


def _when(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _aware(value: Any) -> Any:
    """A time read by hand-written SQL: SQLite gives naive UTC (or text, through a subquery); PostgreSQL aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _counts_sql(event_ids: Sequence[int]) -> tuple[str, list[Any]]:
    events = ", ".join(["%s"] * len(event_ids))
    cutoff = _when(deferred_cutoff())
    sql = _COUNTS_SQL.format(events=events)
    return sql, [cutoff, *event_ids, cutoff, *event_ids, *event_ids]


def _page_sql(event_id: int, reason: str, after: tuple[int, datetime, int] | None, limit: int) -> tuple[str, list[Any]]:
    """The page's statement: the branches `reason` keeps (all for ""), each past the cursor `after` (urgency,
    order date, order id): a branch more urgent than the cursor is done, a less urgent one starts from its top."""
    cutoff = _when(deferred_cutoff())
    failed = [code for code in FAILED_EMAIL if reason in ("", code)]
    missing = _MISSING.format(events="%s")
    # (name, urgency, reason column, where, its parameters before the cursor's)
    branches: list[tuple[str, int, str, str, list[Any]]] = []
    if failed:
        where = f"{_PAID} AND o.{ORDER.email_status} IN ({_quoted(failed)})"
        branches.append(("failed", URGENT, f"o.{ORDER.email_status}", where, []))
    if reason in ("", EmailStatus.DEFERRED):
        branches.append(("deferred", URGENT, f"'{EmailStatus.DEFERRED.value}'", f"{_PAID} AND {_STALE}", [cutoff]))
    if reason in ("", "data_missing"):
        # Missing details of an order without working tickets sort with its email reason; the others after them.
        urgent = f"{_EMAIL_AT_RISK} AND {_NO_TICKETS} AND {missing}"
        branches.append(("urgent_missing", URGENT, "'data_missing'", urgent, [cutoff, event_id]))
        only = f"{_PAID} AND {missing} AND NOT {_NO_TICKETS}"
        branches.append(("missing", DETAILS, "'data_missing'", only, [event_id, cutoff]))
    parts, params = [], []
    for name, urgency, column, where, where_params in branches:
        keyset, keyset_params = "", []
        if after is not None and urgency < after[0]:
            continue  # listed in full before the cursor
        if after is not None and urgency == after[0]:
            keyset, keyset_params = _KEYSET, [_when(after[1]), _when(after[1]), after[2]]
        part = _BRANCH.format(reason=column, urgency=urgency, where=where, keyset=keyset, limit=limit, name=name)
        parts.append(part)
        params += [event_id, *where_params, *keyset_params]
    if not parts:  # a cursor past every branch the reason keeps: no rows, the statement's shape all the same
        parts.append(_BRANCH.format(reason="NULL", urgency=URGENT, where="1 = 0", keyset="", limit=limit, name="none"))
        params.append(event_id)
    sql = _PAGE_SQL.format(
        branches=" UNION ALL ".join(f"SELECT * FROM ({part}) AS p{i}" for i, part in enumerate(parts)), limit=limit
    )
    return sql, params


def _parse_cursor(value: str | None) -> tuple[int, datetime, int] | None:
    """(urgency, order date, order id) of a cursor `_cursor` wrote; None (the first page) for anything else."""
    urgency, _, rest = (value or "").partition("_")
    mark = parse_cursor(rest)
    if urgency not in (str(URGENT), str(DETAILS)) or mark is None:
        return None
    return int(urgency), *mark


def _cursor(order: Order, urgency: int) -> str:
    return f"{urgency}_{cursor(order, 'created_at')}"


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _add_counts(counts: dict[str, int], numbers: Sequence[int | None]) -> None:
    for code, n in zip(COUNT_COLUMNS, numbers, strict=True):
        if n:
            counts[code] = counts.get(code, 0) + int(n)


def _total(counts: dict[str, int]) -> int:
    return sum(n for reason, n in counts.items() if reason != "overlap") - counts.get("overlap", 0)


def at_risk_counts(events: Sequence[Event]) -> dict[int, int]:
    """At-risk orders per event (by event id), for My events: one statement for all of them."""
    if not events:
        return {}
    counts: dict[int, dict[str, int]] = {}
    for event_id, *numbers in _fetch(*_counts_sql([e.pk for e in events])):
        _add_counts(counts.setdefault(event_id, {}), numbers)
    return {event_id: _total(event_counts) for event_id, event_counts in counts.items()}


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

    @property
    def email_suggestion(self) -> str | None:
        """The address the guest probably meant (orders.email_typos), as the order page's bounce banner offers it:
        when the tickets email bounced or was rejected at the order's own contact email, not at an address it was
        sent to once. None otherwise, or when the address looks fine."""
        if not {EmailStatus.BOUNCED, EmailStatus.REJECTED} & set(self.reasons):
            return None
        contact = self.order.contact_email or ""
        if self.message is not None and self.message.recipient.lower() != contact.lower():
            return None
        return suggest_email(contact)


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
    """One page of the event's at-risk orders, most urgent first (no working tickets, then only attendee details
    missing; newest order first within each; keyset paging from the cursor `after`), each with its reasons and
    latest tickets email; `reason` (a REASONS code) keeps the orders with that reason.
    404 for an event `access` can't see. Three queries: the counts, the page's rows (each branch walks its
    index newest first and stops after the page), the page's orders with their latest tickets emails.
    ValueError for a `reason` that is not "" or a REASONS code (the page reads an unknown one as "")."""
    if reason and reason not in REASONS:
        raise ValueError(f"Unknown at-risk reason {reason!r}: one of {', '.join(REASONS)}")
    if event.organisation_id != access.organisation.pk or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    mark = _parse_cursor(after)
    # An order has at most two rows (one email reason, missing details): 2 × page + 1 rows fill a page.
    limit = 2 * page_size + 1
    counts_sql, counts_params = _counts_sql([event.pk])
    page_sql, page_params = _page_sql(event.pk, reason, mark, limit)
    sums = ", ".join(f"SUM(n{i}) AS n{i}" for i in range(len(COUNT_COLUMNS)))
    # The counts (one row) beside every row of the page, so an empty page still brings them: one statement.
    rows = _fetch(
        f"SELECT c.*, p.* FROM (SELECT {sums} FROM ({counts_sql}) AS u) AS c LEFT JOIN ({page_sql}) AS p ON 1 = 1"
        f" ORDER BY p.urgency, p.o_{ORDER.created_at} DESC, p.o_{ORDER.id} DESC",
        [*counts_params, *page_params],
    )
    counts: dict[str, int] = {}
    _add_counts(counts, rows[0][: len(COUNT_COLUMNS)])
    total = _total(counts)
    counts.pop("overlap", None)
    reasons: dict[int, set[str]] = {}
    orders: dict[int, Order] = {}
    messages: dict[int, OutgoingMessage | None] = {}
    urgencies: dict[int, int] = {}
    n_order, start = len(ORDER_FIELDS), len(COUNT_COLUMNS) + 2
    for row in rows:
        code, urgency = row[start - 2 : start]
        order_values, message_values = row[start : start + n_order], row[start + n_order :]
        if code is None:  # no row at risk: the counts alone
            break
        order_id = order_values[0]
        if order_id not in reasons and len(reasons) == page_size:
            break
        reasons.setdefault(order_id, set()).add(code)
        urgencies[order_id] = int(urgency)
        if order_id not in orders:
            orders[order_id] = _model(Order, ORDER_FIELDS, order_values)
            messages[order_id] = _model(OutgoingMessage, MESSAGE_FIELDS, message_values) if message_values[0] else None
    shown = sum(len(r) for r in reasons.values())
    more = len(reasons) == page_size and any(row[start - 2] is not None for row in rows[shown:])
    listed = [AtRiskRow(orders[i], [c for c in REASONS if c in reasons[i]], messages[i]) for i in reasons]
    last = listed[-1].order if listed else None
    next_cursor = _cursor(last, urgencies[last.pk]) if more and last is not None else None
    total = counts.get(reason, 0) if reason else total
    return AtRiskList(rows=listed, total=total, counts=counts, next_cursor=next_cursor, first_page=mark is None)


def _model(model: type[M], fields: Sequence[str], values: Sequence[Any]) -> M:
    """An instance of `model` with just these fields (Model.from_db, as a queryset's .only() builds them)."""
    values = [_aware(v) if f in _TIMES else v for f, v in zip(fields, values, strict=True)]
    return model.from_db(connection.alias, list(fields), values)


_TIMES = frozenset({"created_at", "status_at"})
