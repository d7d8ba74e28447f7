"""Every write to messages: the outbox, the send claim, and the delivery events from webhooks.

Message statuses only move forward (`statuses.STAGE`); each move writes a timeline entry
and, for ticket emails, updates the order's "Order email status" in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record

from .models import STAGE, DeliveryEvent, MessageStatus, OutgoingMessage

log = logging.getLogger(__name__)

SEND_MESSAGE_TASK = "notifications.tasks.send_message"

Kind = OutgoingMessage.Kind
Status = MessageStatus
EventType = DeliveryEvent.Type

# How the timeline names each kind of email ("Tickets email delivered to …").
KIND_WORDS: dict[str, str] = {
    Kind.TICKETS: "Tickets",
    Kind.TICKETS_RESEND: "Resent tickets",
    Kind.REFUND_NOTICE: "Refund notice",
    Kind.CANCELLATION_NOTICE: "Cancellation notice",
}

# Which message status each delivery event asks for. Opened and clicked prove delivery.
EVENT_STATUS: dict[str, str] = {
    EventType.SENT: Status.SENT,
    EventType.DELIVERED: Status.DELIVERED,
    EventType.DEFERRED: Status.DEFERRED,
    EventType.BOUNCED: Status.BOUNCED,
    EventType.REJECTED: Status.REJECTED,
    EventType.FAILED: Status.FAILED,
    EventType.COMPLAINED: Status.COMPLAINED,
    EventType.OPENED: Status.DELIVERED,
    EventType.CLICKED: Status.DELIVERED,
}

# A message stuck in "sending" this long had its worker die mid-send (task time limit is 2 min).
STUCK_SENDING_AFTER = timedelta(minutes=15)
STALE_QUEUED_AFTER = timedelta(minutes=5)


def _timeline_data(message: OutgoingMessage, **extra: Any) -> dict[str, Any]:
    return {
        "kind": KIND_WORDS.get(message.kind, message.kind),
        "recipient": message.recipient,
        "message": message.pk,
        **extra,
    }


def _sync_order_email_status(message: OutgoingMessage) -> None:
    """Order email status = the status of the order's latest ticket email (one UPDATE)."""
    if message.kind not in OutgoingMessage.TICKET_KINDS:
        return
    latest = OutgoingMessage.objects.filter(order_id=OuterRef("pk"), kind__in=OutgoingMessage.TICKET_KINDS)
    latest_id = Subquery(latest.order_by("-created_at", "-id").values("pk")[:1])
    Order.objects.filter(pk=message.order_id).exclude(email_status=message.status).alias(latest_id=latest_id).filter(
        latest_id=message.pk
    ).update(email_status=message.status)


# The webhook path is the hottest write in the portal (a storm of events after each mailing), so
# its statements are written out once here instead of being compiled by the ORM for every event.
_MESSAGE = OutgoingMessage._meta.db_table
_ORDER = Order._meta.db_table
_EVENT = DeliveryEvent._meta.db_table

# If the message just moved (the CTE "moved") and is its order's latest ticket email, the order's
# "Order email status" follows, in the same statement.
_SYNC_ORDER_CTE = f"""
    synced AS (
        UPDATE {_ORDER} o SET email_status = %(status)s FROM moved
        WHERE o.id = moved.order_id AND moved.kind = ANY(%(ticket_kinds)s) AND o.email_status <> %(status)s
          AND moved.id = (
            SELECT latest.id FROM {_MESSAGE} latest
            WHERE latest.order_id = moved.order_id AND latest.kind = ANY(%(ticket_kinds)s)
            ORDER BY latest.created_at DESC, latest.id DESC LIMIT 1)
        RETURNING o.id
    )"""

# Move the message forward (the WHERE is the stage rule: never back; the row lock orders concurrent
# events) and sync the order: one round trip. Answers (moved, order updated).
_ADVANCE_SQL = f"""
    WITH moved AS (
        UPDATE {_MESSAGE} SET status = %(status)s, status_reason = %(reason)s, status_at = %(at)s
        WHERE id = %(message)s AND status = ANY(%(lower)s)
        RETURNING id, order_id, kind
    ), {_SYNC_ORDER_CTE}
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM synced)"""

# queued → sending for exactly one caller (the conditional UPDATE is the lock), and sync the order.
_CLAIM_SQL = f"""
    WITH moved AS (
        UPDATE {_MESSAGE} SET status = %(status)s, attempts = attempts + 1, status_at = %(at)s
        WHERE id = %(message)s AND status = %(queued)s
        RETURNING id, order_id, kind
    ), {_SYNC_ORDER_CTE}
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM synced)"""

_TICKET_KINDS = sorted(OutgoingMessage.TICKET_KINDS)
_LOWER_STAGES = {s.value: [t.value for t in Status if STAGE[t] < STAGE[s]] for s in Status}


def _move(*, message_id: int, status: str, reason: str, at: datetime) -> bool:
    """Move the message forward to `status` (never back) and sync its order's email status; whether it moved.

    Call holding the order's lock: the order's latest ticket email can't change meanwhile.
    """
    if not _is_postgres():
        return _move_portable(
            message_id=message_id,
            from_statuses=_LOWER_STAGES[status],
            status=status,
            status_reason=reason,
            status_at=at,
        )
    with connection.cursor() as cursor:
        cursor.execute(
            _ADVANCE_SQL,
            {
                "status": status,
                "reason": reason,
                "at": at,
                "message": message_id,
                "lower": _LOWER_STAGES[status],
                "ticket_kinds": _TICKET_KINDS,
            },
        )
        (moved, _synced) = cursor.fetchone()
    return bool(moved)


def _move_portable(*, message_id: int, from_statuses: list[str], **fields: Any) -> bool:
    """_ADVANCE_SQL / _CLAIM_SQL in the ORM, for SQLite: the same guarded update, then the order's sync."""
    moved = OutgoingMessage.objects.filter(pk=message_id, status__in=from_statuses).update(**fields)
    if moved:
        _sync_order_email_status(OutgoingMessage.objects.only("pk", "order_id", "kind", "status").get(pk=message_id))
    return bool(moved)


def message_queue(
    *,
    order: Order,
    kind: str,
    recipient: str,
    actor=None,
    idempotency_key: str = "",
    record_timeline: bool = True,
) -> OutgoingMessage:
    """Write the message to the outbox and hand it to a worker after commit.

    Call inside the transaction of the action that wants the message (holding the order's
    lock); if that transaction rolls back, nothing is sent. Callers whose own timeline entry
    already says an email goes out pass record_timeline=False.
    """
    message = OutgoingMessage.objects.create(
        organisation_id=order.organisation_id,
        order=order,
        kind=kind,
        recipient=recipient,
        created_by=actor,
        idempotency_key=idempotency_key,
    )
    _sync_order_email_status(message)
    if record_timeline:
        timeline_record(order=order, action="email.queued", actor=actor, data=_timeline_data(message))
    transaction.on_commit(lambda: message_dispatch(message_id=message.pk))
    return message


def message_dispatch(*, message_id: int) -> bool:
    """Hand the message to the broker. A broker outage is logged, not raised: the sweeper sends it later.

    The task is named, not imported: tasks call services, so services must not import tasks
    (NotificationsConfig.ready registers it, so eager mode and routing apply as for a direct call).
    """
    try:
        current_app.signature(SEND_MESSAGE_TASK, args=(message_id,)).apply_async(retry=False)
    except Exception:
        log.warning("Could not queue message %s for sending; the outbox sweeper will retry", message_id, exc_info=True)
        return False
    return True


def message_claim(*, message_id: int) -> OutgoingMessage | None:
    """queued → sending, for exactly one caller: the conditional update is the lock.

    Returns the claimed message, or None when it is not (or no longer) queued, so a task
    delivered twice sends once.
    """
    if not _is_postgres():
        claimed = _move_portable(
            message_id=message_id,
            from_statuses=[Status.QUEUED],
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            status_at=timezone.now(),
        )
    else:
        with connection.cursor() as cursor:  # one statement: atomic on its own
            cursor.execute(
                _CLAIM_SQL,
                {
                    "status": Status.SENDING,
                    "queued": Status.QUEUED,
                    "at": timezone.now(),
                    "message": message_id,
                    "ticket_kinds": _TICKET_KINDS,
                },
            )
            (claimed, _synced) = cursor.fetchone()
    if not claimed:
        return None
    # With the order, event and organisation the email is built from: no second read in build_email.
    return OutgoingMessage.objects.select_related("order__event", "order__organisation").get(pk=message_id)


def _lock_message(message_id: int) -> OutgoingMessage:
    """The message with its order, the order row locked (one query).

    Same lock order as the order actions and the webhooks (order first), so they never deadlock.
    Only the order row is locked: the message's status is changed by guarded UPDATEs (_move),
    which never move it back even if this read is older than a concurrent change.
    """
    return OutgoingMessage.objects.select_related("order").select_for_update(of=("order",)).get(pk=message_id)


def _advance(
    message: OutgoingMessage,
    status: str,
    *,
    reason: str = "",
    at: datetime | None = None,
    actor_kind: str = TimelineEntry.ActorKind.SYSTEM,
) -> bool:
    """Move the message (its order locked) forward to `status`; never back. Returns whether it moved."""
    at = at or timezone.now()
    if not _move(message_id=message.pk, status=status, reason=reason[:300], at=at):
        return False
    message.status, message.status_reason, message.status_at = status, reason[:300], at
    timeline_record(
        order=message.order,
        action=f"email.{status}",
        actor_kind=actor_kind,
        data=_timeline_data(message, reason=reason[:300]),
    )
    return True


def message_mark_sent(*, message_id: int, provider: str, provider_message_id: str) -> OutgoingMessage:
    """The email service accepted the message. A webhook may already have moved it further."""
    with transaction.atomic():
        message = _lock_message(message_id)
        message.provider = provider[:40]
        message.provider_message_id = provider_message_id[:200]
        message.sent_at = timezone.now()
        message.save(update_fields=["provider", "provider_message_id", "sent_at"])
        _advance(message, Status.SENT)
    return message


def message_mark_failed(*, message_id: int, status: str, reason: str, provider: str = "") -> OutgoingMessage:
    """A permanent refusal (invalid or suppressed address, nothing to send): rejected or failed, with the reason."""
    assert status in (Status.REJECTED, Status.FAILED)
    with transaction.atomic():
        message = _lock_message(message_id)
        if provider:
            message.provider = provider[:40]
            message.save(update_fields=["provider"])
        _advance(message, status, reason=reason)
    return message


def message_release_for_retry(*, message_id: int, reason: str) -> None:
    """sending → queued after a temporary provider error, so the retry (or the sweeper) can claim it again."""
    with transaction.atomic():
        updated = OutgoingMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.QUEUED, status_reason=reason[:300], status_at=timezone.now()
        )
        if updated:
            _sync_order_email_status(OutgoingMessage.objects.get(pk=message_id))


def messages_requeue_stale(
    *, queued_for: timedelta = STALE_QUEUED_AFTER, sending_for: timedelta = STUCK_SENDING_AFTER, limit: int = 500
) -> int:
    """The outbox sweeper: hand messages left queued (the broker was down, a task was lost) to a worker again.

    Messages stuck in "sending" past the task time limit belonged to a worker that died;
    they go back to queued first. Returns how many messages were handed over.
    """
    now = timezone.now()
    stale = OutgoingMessage.objects.filter(status=Status.QUEUED, status_at__lte=now - queued_for).order_by("status_at")
    ids = list(stale.values_list("pk", flat=True)[:limit])
    stuck = OutgoingMessage.objects.filter(status=Status.SENDING, status_at__lt=now - sending_for)
    for message_id in list(stuck.values_list("pk", flat=True)[:limit]):
        message_release_for_retry(message_id=message_id, reason="The sending worker stopped; trying again")
        ids.append(message_id)
    return sum(message_dispatch(message_id=message_id) for message_id in ids)


# --- Delivery events (webhooks) -------------------------------------------


@dataclass(frozen=True)
class IncomingEvent:
    """One tracking event as the email service reported it, already parsed (by anymail)."""

    provider: str
    event_type: str  # an anymail EventType value
    occurred_at: datetime | None
    recipient: str = ""
    reason: str = ""
    event_id: str = ""
    provider_message_id: str = ""
    portal_message_id: str = ""  # from the metadata the portal set when sending
    raw: Any = None


def _dedup_key(event: IncomingEvent) -> str:
    if event.event_id:
        key = f"{event.provider}:{event.event_id}:{event.event_type}:{event.recipient}"
    else:
        payload = json.dumps(event.raw, sort_keys=True, default=str)
        key = f"{event.provider}:{event.event_type}:{event.recipient}:{payload}"
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class _Target:
    """The few columns of the event's message that recording it needs (none of them change after queueing)."""

    message_id: int
    order_id: int
    organisation_id: int
    kind: str
    recipient: str


# Lock the order row (same lock order as the order actions and message_mark_sent: order first, so a
# webhook and an action never deadlock, and two events for one order queue up instead of racing).
_FIND_AND_LOCK_SQL = f"""
    SELECT m.id, m.order_id, m.organisation_id, m.kind, m.recipient
    FROM {_MESSAGE} m JOIN {_ORDER} o ON o.id = m.order_id
    WHERE m.{{column}} = %s ORDER BY m.id LIMIT 1{{lock}}"""

# A concurrent copy of the same event waits for the first one's transaction, then inserts nothing.
_INSERT_EVENT_SQL = f"""
    INSERT INTO {_EVENT}
        (organisation_id, message_id, event_type, occurred_at, reason, provider, dedup_key, raw, received_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, {{raw}}, %s)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id"""


def _is_postgres() -> bool:
    """The hot paths below use PostgreSQL's single-statement forms; the embedded SQLite default (one
    writer at a time, so no row locks needed) takes the plain forms with the same rules."""
    return connection.vendor == "postgresql"


def _find_and_lock_target(cursor: Any, event: IncomingEvent) -> _Target | None:
    """The event's message, by the portal's metadata or else by the provider's message ID; its order is locked."""
    row = None
    lock = " FOR UPDATE OF o" if _is_postgres() else ""
    if event.portal_message_id.isdigit():
        cursor.execute(_FIND_AND_LOCK_SQL.format(column="id", lock=lock), [int(event.portal_message_id)])
        row = cursor.fetchone()
    if row is None and event.provider_message_id:
        sql = _FIND_AND_LOCK_SQL.format(column="provider_message_id", lock=lock)
        cursor.execute(sql, [event.provider_message_id])
        row = cursor.fetchone()
    return _Target(*row) if row else None


def _store_event_once(
    cursor: Any, event: IncomingEvent, target: _Target | None, event_type: str, occurred_at: datetime
) -> int | None:
    """Insert the DeliveryEvent unless its dedup key is stored already: its id, or None for a duplicate."""
    raw = event.raw if isinstance(event.raw, dict) else ({} if event.raw is None else {"event": event.raw})
    cursor.execute(
        _INSERT_EVENT_SQL.format(raw="%s::jsonb" if _is_postgres() else "%s"),
        [
            target.organisation_id if target else None,
            target.message_id if target else None,
            event_type,
            occurred_at,
            event.reason[:300],
            event.provider[:40],
            _dedup_key(event),
            json.dumps(raw, default=str),
            timezone.now(),
        ],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def delivery_event_record(*, event: IncomingEvent) -> int | None:
    """Keep the event once and move its message forward. Returns the stored event's id; a duplicate returns None and changes nothing.

    Out-of-order events end right because a message only ever moves to a later stage:
    a deferral after delivery is kept as an event but leaves the message delivered, a late
    bounce moves a delivered message to bounced, and an open proves delivery. A status change
    writes one timeline entry and updates "Order email status" when the message is the order's
    latest ticket email, in the same transaction.

    Statements per event: find the message and lock its order, insert the event (a duplicate
    stops here); move the message and sync the order in one statement; the timeline entry only
    when the message moved.
    """
    event_type = event.event_type if event.event_type in EventType.values else EventType.UNKNOWN
    occurred_at = event.occurred_at or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        target = _find_and_lock_target(cursor, event)
        stored = _store_event_once(cursor, event, target, event_type, occurred_at)
        if stored is None:
            return None
        if target is None:
            log.info("Delivery event %s from %s matches no message", event_type, event.provider)
            return stored
        if event_type == EventType.OPENED:
            OutgoingMessage.objects.filter(pk=target.message_id, opened_at=None).update(opened_at=occurred_at)
        if event_type == EventType.CLICKED:
            OutgoingMessage.objects.filter(pk=target.message_id, clicked_at=None).update(clicked_at=occurred_at)
        status = EVENT_STATUS.get(event_type)
        if status is None:
            return stored
        reason = ("" if status == Status.DELIVERED else event.reason)[:300]
        moved = _move(message_id=target.message_id, status=status, reason=reason, at=occurred_at)
        if moved:
            timeline_record(
                order=Order(pk=target.order_id, organisation_id=target.organisation_id),
                action=f"email.{status}",
                actor_kind=TimelineEntry.ActorKind.WEBHOOK,
                data={
                    "kind": KIND_WORDS.get(target.kind, target.kind),
                    "recipient": target.recipient,
                    "message": target.message_id,
                    "reason": reason,
                },
            )
    return stored
