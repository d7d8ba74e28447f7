"""The notifications' hand-written SQL: the send claim and the webhook path, each with its portable form.

The webhook path is the hottest write in the portal (a storm of events after each mailing), so its
statements are written out once here instead of being compiled by the ORM for every event. PostgreSQL runs
the single-statement forms; the portable forms (SQLite, the embedded default: one writer at a time, so no
row locks needed) keep the same rules in more statements. `organiser_portal.db.is_postgres` decides which
runs; tests/notifications/test_sql_forms.py runs both on the same data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, OuterRef, Subquery

from orders.models import Order
from organiser_portal.db import Table, is_postgres

from .models import STAGE, DeliveryEvent, MessageStatus, OutgoingMessage

MESSAGE, ORDER, EVENT = Table(OutgoingMessage), Table(Order), Table(DeliveryEvent)
TICKET_KINDS = sorted(OutgoingMessage.TICKET_KINDS)
LOWER_STAGES = {s.value: [t.value for t in MessageStatus if STAGE[t] < STAGE[s]] for s in MessageStatus}

# If the message just moved (the CTE "moved") and is its order's latest ticket email, the order's
# "Order email status" follows, in the same statement.
_SYNC_ORDER_CTE = f"""
    synced AS (
        UPDATE {ORDER} o SET {ORDER.email_status} = %(status)s FROM moved
        WHERE o.{ORDER.id} = moved.{MESSAGE.order} AND moved.{MESSAGE.kind} = ANY(%(ticket_kinds)s)
          AND o.{ORDER.email_status} <> %(status)s
          AND moved.{MESSAGE.id} = (
            SELECT latest.{MESSAGE.id} FROM {MESSAGE} latest
            WHERE latest.{MESSAGE.order} = moved.{MESSAGE.order} AND latest.{MESSAGE.kind} = ANY(%(ticket_kinds)s)
            ORDER BY latest.{MESSAGE.created_at} DESC, latest.{MESSAGE.id} DESC LIMIT 1)
        RETURNING o.{ORDER.id}
    )"""

# Move the message forward (the WHERE is the stage rule: never back; the row lock orders concurrent
# events) and sync the order: one round trip. Answers (moved, order updated).
_ADVANCE_SQL = f"""
    WITH moved AS (
        UPDATE {MESSAGE}
        SET {MESSAGE.status} = %(status)s, {MESSAGE.status_reason} = %(reason)s, {MESSAGE.status_at} = %(at)s
        WHERE {MESSAGE.id} = %(message)s AND {MESSAGE.status} = ANY(%(lower)s)
        RETURNING {MESSAGE.id}, {MESSAGE.order}, {MESSAGE.kind}
    ), {_SYNC_ORDER_CTE}
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM synced)"""

# queued → sending for exactly one caller (the conditional UPDATE decides), once its backoff is over, and sync the
# order. Run holding the order's lock (message_start_sending): order row first, then the message row.
_CLAIM_SQL = f"""
    WITH moved AS (
        UPDATE {MESSAGE}
        SET {MESSAGE.status} = %(status)s, {MESSAGE.attempts} = {MESSAGE.attempts} + 1, {MESSAGE.status_at} = %(at)s,
            {MESSAGE.status_reason} = '', {MESSAGE.handed_over_at} = NULL
        WHERE {MESSAGE.id} = %(message)s AND {MESSAGE.status} = %(queued)s AND {MESSAGE.next_attempt_at} <= %(due)s
        RETURNING {MESSAGE.id}, {MESSAGE.order}, {MESSAGE.kind}, {MESSAGE.attempts}
    ), {_SYNC_ORDER_CTE}
    SELECT (SELECT max({MESSAGE.attempts}) FROM moved), (SELECT count(*) FROM synced)"""

# The event's message by one of its columns. PostgreSQL locks the order row: same lock order as the order
# actions and message_mark_sent (order first), so a webhook and an action never deadlock, and two events
# for one order queue up instead of racing.
_FIND_SQL = f"""
    SELECT m.{MESSAGE.id}, m.{MESSAGE.order}, m.{MESSAGE.organisation}, m.{MESSAGE.kind}, m.{MESSAGE.recipient},
           m.{MESSAGE.channel}
    FROM {MESSAGE} m JOIN {ORDER} o ON o.{ORDER.id} = m.{MESSAGE.order}
    WHERE m.{{column}} = %s ORDER BY m.{MESSAGE.id} LIMIT 1{{lock}}"""
_FIND_BY = {
    (field, postgres): _FIND_SQL.format(column=getattr(MESSAGE, field), lock=" FOR UPDATE OF o" if postgres else "")
    for field in ("id", "provider_message_id")
    for postgres in (True, False)
}
# An account email (a member invitation, a password reset) has no order: its own row is locked.
_FIND_ACCOUNT_SQL = f"""
    SELECT m.{MESSAGE.id}, m.{MESSAGE.order}, m.{MESSAGE.organisation}, m.{MESSAGE.kind}, m.{MESSAGE.recipient},
           m.{MESSAGE.channel}
    FROM {MESSAGE} m
    WHERE m.{{column}} = %s AND m.{MESSAGE.order} IS NULL ORDER BY m.{MESSAGE.id} LIMIT 1{{lock}}"""
_FIND_ACCOUNT_BY = {
    (field, postgres): _FIND_ACCOUNT_SQL.format(
        column=getattr(MESSAGE, field), lock=" FOR UPDATE OF m" if postgres else ""
    )
    for field in ("id", "provider_message_id")
    for postgres in (True, False)
}

# A concurrent copy of the same event waits for the first one's transaction, then inserts nothing.
EVENT_COLUMNS = ("organisation", "message", "event_type", "occurred_at", "reason", "provider", "dedup_key", "raw")
_INSERT_EVENT_SQL = f"""
    INSERT INTO {EVENT} ({", ".join(getattr(EVENT, field) for field in EVENT_COLUMNS)}, {EVENT.received_at})
    VALUES (%s, %s, %s, %s, %s, %s, %s, {{raw}}, %s)
    ON CONFLICT ({EVENT.dedup_key}) DO NOTHING
    RETURNING {EVENT.id}"""
_INSERT_EVENT = {True: _INSERT_EVENT_SQL.format(raw="%s::jsonb"), False: _INSERT_EVENT_SQL.format(raw="%s")}


def message_advance(*, message_id: int, status: str, reason: str, at: datetime) -> bool:
    """Move the message forward to `status` (never back) and sync its order's email status; whether it moved.

    Call holding the order's lock: the order's latest ticket email can't change meanwhile.
    """
    if not is_postgres():
        lower = LOWER_STAGES[status]
        return _move_portable(message_id, lower, status=status, status_reason=reason, status_at=at)
    with connection.cursor() as cursor:
        cursor.execute(
            _ADVANCE_SQL,
            {
                "status": status,
                "reason": reason,
                "at": at,
                "message": message_id,
                "lower": LOWER_STAGES[status],
                "ticket_kinds": TICKET_KINDS,
            },
        )
        (moved, _synced) = cursor.fetchone()
    return bool(moved)


def message_start_sending(*, message_id: int, at: datetime, due: datetime) -> int | None:
    """queued → sending, one attempt more, and sync the order, if the message's next attempt is due by `due`.

    The attempt's number when this caller moved it, else None (of two callers, exactly one moves it). Locks the
    order row first, then the message row: the lock order of the order actions, the webhooks and mark sent, so a
    claim racing any of them waits instead of deadlocking. Call inside a transaction.
    """
    with connection.cursor() as cursor:
        if message_for_event(cursor, field="id", value=message_id) is None:
            return None
        if not is_postgres():
            queued = [MessageStatus.QUEUED.value]
            fields = {"attempts": F("attempts") + 1, "status_reason": "", "handed_over_at": None}
            claimed = _move_portable(message_id, queued, due=due, status=MessageStatus.SENDING, status_at=at, **fields)
            if not claimed:
                return None
            return OutgoingMessage.objects.values_list("attempts", flat=True).get(pk=message_id)
        cursor.execute(
            _CLAIM_SQL,
            {
                "status": MessageStatus.SENDING,
                "queued": MessageStatus.QUEUED,
                "at": at,
                "due": due,
                "message": message_id,
                "ticket_kinds": TICKET_KINDS,
            },
        )
        (attempt, _synced) = cursor.fetchone()
    return attempt


def _move_portable(message_id: int, from_statuses: list[str], *, due: datetime | None = None, **fields: Any) -> bool:
    """_ADVANCE_SQL / _CLAIM_SQL in the ORM: the same guarded update, then the order's sync."""
    guarded = OutgoingMessage.objects.filter(pk=message_id, status__in=from_statuses)
    if due is not None:
        guarded = guarded.filter(next_attempt_at__lte=due)
    moved = guarded.update(**fields)
    if moved:
        order_email_status_sync(OutgoingMessage.objects.only("pk", "order_id", "kind", "status").get(pk=message_id))
    return bool(moved)


def order_email_status_sync(message: OutgoingMessage) -> None:
    """Order email status = the status of the order's latest ticket email (one UPDATE). The portable form of
    _SYNC_ORDER_CTE, and what the outbox runs on both after it changed a message through the ORM."""
    if message.kind not in OutgoingMessage.TICKET_KINDS or message.order_id is None:
        return
    latest = OutgoingMessage.objects.filter(order_id=OuterRef("pk"), kind__in=OutgoingMessage.TICKET_KINDS)
    latest_id = Subquery(latest.order_by("-created_at", "-id").values("pk")[:1])
    Order.objects.filter(pk=message.order_id).exclude(email_status=message.status).alias(latest_id=latest_id).filter(
        latest_id=message.pk
    ).update(email_status=message.status)


def message_for_event(cursor: Any, *, field: str, value: int | str) -> tuple | None:
    """(id, order_id, organisation_id, kind, recipient, channel) of the message whose `field` ("id" or
    "provider_message_id") is `value`, its order row locked on PostgreSQL (an account email's own row, and
    order_id None); None when there is none."""
    cursor.execute(_FIND_BY[field, is_postgres()], [value])
    if (row := cursor.fetchone()) is not None:
        return row
    cursor.execute(_FIND_ACCOUNT_BY[field, is_postgres()], [value])
    return cursor.fetchone()


def delivery_event_insert(cursor: Any, values: list[Any], received_at: datetime) -> int | None:
    """Insert a DeliveryEvent (`values` in EVENT_COLUMNS' order, `raw` as JSON text) unless its dedup key is
    stored already: its id, or None for a duplicate."""
    cursor.execute(_INSERT_EVENT[is_postgres()], [*values, received_at])
    row = cursor.fetchone()
    return row[0] if row else None


# What each event's message and order are, before anything is locked (neither changes once a message is
# queued): a batch's events are recorded in (order, message) order, so two batches never wait on each other
# in a circle. By the provider's id, as _FIND_BY chooses: an order's message before an account email, then the
# lowest id.
_LOCK_KEYS_BY_ID = f"""
    SELECT {MESSAGE.id}, {MESSAGE.id}, {MESSAGE.order} FROM {MESSAGE} WHERE {MESSAGE.id} = ANY(%s)"""
_LOCK_KEYS_BY_PROVIDER_ID = f"""
    SELECT DISTINCT ON ({MESSAGE.provider_message_id}) {MESSAGE.provider_message_id}, {MESSAGE.id}, {MESSAGE.order}
    FROM {MESSAGE} WHERE {MESSAGE.provider_message_id} = ANY(%s)
    ORDER BY {MESSAGE.provider_message_id}, {MESSAGE.order} IS NULL, {MESSAGE.id}"""


def message_lock_keys(*, ids: list[int], provider_ids: list[str]) -> tuple[dict, dict]:
    """({id: (message id, order id)}, {provider message id: (message id, order id)}) for the messages found,
    read without locks (order id None: an account email). Two statements at most, whatever the number of ids.
    PostgreSQL only (the portable form needs no lock order: SQLite has one writer at a time)."""

    def read(cursor: Any, statement: str, values: list[Any]) -> dict:
        if not values:
            return {}
        cursor.execute(statement, [values])
        return {key: (message, order) for key, message, order in cursor.fetchall()}

    with connection.cursor() as cursor:
        return read(cursor, _LOCK_KEYS_BY_ID, list(ids)), read(cursor, _LOCK_KEYS_BY_PROVIDER_ID, list(provider_ids))


# A batch's messages with their orders locked in one statement each, in the lock order: orders by id (the
# locks are taken as the sorted rows come out), then account emails' own rows by id.
_LOCK_TARGETS_SQL = f"""
    SELECT m.{MESSAGE.id}, m.{MESSAGE.order}, m.{MESSAGE.organisation}, m.{MESSAGE.kind}, m.{MESSAGE.recipient},
           m.{MESSAGE.channel}
    FROM {MESSAGE} m JOIN {ORDER} o ON o.{ORDER.id} = m.{MESSAGE.order}
    WHERE m.{MESSAGE.id} = ANY(%s) ORDER BY o.{ORDER.id}, m.{MESSAGE.id} FOR UPDATE OF o"""
_LOCK_ACCOUNT_TARGETS_SQL = f"""
    SELECT m.{MESSAGE.id}, m.{MESSAGE.order}, m.{MESSAGE.organisation}, m.{MESSAGE.kind}, m.{MESSAGE.recipient},
           m.{MESSAGE.channel}
    FROM {MESSAGE} m WHERE m.{MESSAGE.id} = ANY(%s) AND m.{MESSAGE.order} IS NULL ORDER BY m.{MESSAGE.id} FOR UPDATE OF m"""


def messages_lock_for_events(cursor: Any, *, order_message_ids: list[int], account_message_ids: list[int]) -> list:
    """message_for_event's rows for many messages at once, PostgreSQL only: the orders of `order_message_ids`
    locked in order-id order, then the rows of `account_message_ids` (account emails) in id order."""
    rows: list = []
    for statement, ids in ((_LOCK_TARGETS_SQL, order_message_ids), (_LOCK_ACCOUNT_TARGETS_SQL, account_message_ids)):
        if ids:
            cursor.execute(statement, [ids])
            rows.extend(cursor.fetchall())
    return rows
