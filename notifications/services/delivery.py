"""Delivery events: what the email service's webhooks report about a message, kept once, moving it forward.

Every event is stored as a DeliveryEvent, once (a duplicate changes nothing). Out-of-order events end in
the right state because a message only ever moves to a later stage (`models.STAGE`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record
from organiser_portal.phones import phone_international

from .. import sql
from ..models import DeliveryEvent, MessageStatus, OutgoingMessage
from ..refusals import bounce_blames_address
from .outbox import KIND_WORDS, timeline_prefix
from .suppression import SUPPRESSING, suppression_add

log = logging.getLogger(__name__)

Status = MessageStatus
EventType = DeliveryEvent.Type

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

    def dedup_key(self) -> str:
        """What makes two reports the same event: the service's event ID, or else the whole payload."""
        if self.event_id:
            key = f"{self.provider}:{self.event_id}:{self.event_type}:{self.recipient}"
        else:
            payload = json.dumps(self.raw, sort_keys=True, default=str)
            key = f"{self.provider}:{self.event_type}:{self.recipient}:{payload}"
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class _Target:
    """The few columns of the event's message that recording it needs (none of them change after queueing)."""

    message_id: int
    order_id: int | None  # None: an account email (no timeline to write)
    organisation_id: int | None
    kind: str
    recipient: str
    channel: str


def _find_and_lock_target(cursor: Any, event: IncomingEvent) -> _Target | None:
    """The event's message, by the portal's metadata or else by the provider's message ID; its order is locked."""
    row = None
    if event.portal_message_id.isdigit():
        row = sql.message_for_event(cursor, field="id", value=int(event.portal_message_id))
    if row is None and event.provider_message_id:
        row = sql.message_for_event(cursor, field="provider_message_id", value=event.provider_message_id)
    return _Target(*row) if row else None


def _store_event_once(
    cursor: Any, event: IncomingEvent, target: _Target | None, event_type: str, occurred_at: datetime
) -> int | None:
    """Insert the DeliveryEvent unless its dedup key is stored already: its id, or None for a duplicate."""
    raw = event.raw if isinstance(event.raw, dict) else ({} if event.raw is None else {"event": event.raw})
    values = [
        target.organisation_id if target else None,
        target.message_id if target else None,
        event_type,
        occurred_at,
        event.reason[:300],
        event.provider[:40],
        event.dedup_key(),
        json.dumps(raw, default=str),
    ]
    return sql.delivery_event_insert(cursor, values, received_at=timezone.now())


def delivery_event_record(*, event: IncomingEvent) -> int | None:
    """Keep the event once and move its message forward. Returns the stored event's id; a duplicate returns None and changes nothing.

    Out-of-order events end right because a message only ever moves to a later stage:
    a deferral (a transient failure, soft bounces included) after delivery is kept as an event
    but leaves the message delivered, a delivery after a deferral wins, a late permanent
    bounce moves a delivered message to bounced, and an open proves delivery. An auto-reply
    (out of office) changes no status: it is kept and noted on the timeline. A hard bounce or a
    complaint puts the address on the organisation's suppression list (a soft bounce, a deferral,
    a rejection or a failure does not: they don't show the address is bad). A status change
    writes one timeline entry and updates "Order email status" when the message is the order's
    latest ticket email, in the same transaction.

    Statements per event: find the message and lock its order, insert the event (a duplicate
    stops here); move the message and sync the order in one statement; the timeline entry only
    when the message moved.
    """
    return delivery_events_record(events=[event])[0]


# A batch's events are recorded this many to a transaction: one commit for them instead of one each. Not more:
# a transaction holds its orders' locks until it commits, and concurrent batches sharing an order queue behind
# it (on the million-order storm, bench/NOTES.md, 100 a transaction was slower than 20).
EVENTS_PER_TRANSACTION = 20


def delivery_events_record(*, events: Sequence[IncomingEvent]) -> list[int | None]:
    """Record a batch of events (SendGrid and SparkPost post up to a thousand at once) as
    delivery_event_record does each, EVENTS_PER_TRANSACTION to a transaction. Returns each event's stored id
    (None: a duplicate), in the events' order.

    Lock order, so that two batches (or a batch and an order action) wait for each other instead of
    deadlocking: the events are recorded sorted by (order id, message id), found without locks first, and
    in the order they came within one message (so the result is what one at a time would give); then those
    of account emails by message id, then those that match no message by dedup key (a copy being inserted
    elsewhere is waited for); the suppression rows last, sorted by address. A failing event rolls back its
    transaction's events only; they are stored once when posted again.

    Statements: two to find the batch's messages; per transaction, two that lock its orders (and account
    emails) and read their messages; per event, the insert (a duplicate stops there), the move, the timeline
    entry when it moved. An event whose message wasn't found first is found as delivery_event_record finds it.
    """
    batch = len(events) > 1 and connection.vendor == "postgresql"
    keys: list[tuple] = []
    if batch:
        ids = [int(e.portal_message_id) for e in events if e.portal_message_id.isdigit()]
        by_id, by_provider_id = sql.message_lock_keys(
            ids=ids, provider_ids=[e.provider_message_id for e in events if e.provider_message_id]
        )
        keys = [_lock_key(n, e, by_id, by_provider_id) for n, e in enumerate(events)]
    arrival = sorted(range(len(events)), key=keys.__getitem__) if batch else list(range(len(events)))
    stored: list[int | None] = [None] * len(events)
    for start in range(0, len(arrival), EVENTS_PER_TRANSACTION):
        chunk = arrival[start : start + EVENTS_PER_TRANSACTION]
        suppressions: list[dict[str, Any]] = []
        with transaction.atomic(), connection.cursor() as cursor:
            targets = _lock_targets(cursor, [keys[n] for n in chunk]) if batch else {}
            for n in chunk:
                known = targets.get(keys[n][2]) if batch and keys[n][0] < 2 else None
                stored[n] = _record(cursor, events[n], suppressions, known)
            for suppression in sorted(suppressions, key=lambda s: (s["organisation_id"], s["address"].lower())):
                suppression_add(**suppression)
    return stored


def _lock_key(n: int, event: IncomingEvent, by_id: dict, by_provider_id: dict) -> tuple:
    """Where the event goes in its batch's lock order (see delivery_events_record)."""
    found = (by_id.get(int(event.portal_message_id)) if event.portal_message_id.isdigit() else None) or (
        by_provider_id.get(event.provider_message_id) if event.provider_message_id else None
    )
    if found is None:
        return (2, 0, 0, event.dedup_key(), n)
    message_id, order_id = found
    return (0, order_id, message_id, "", n) if order_id is not None else (1, 0, message_id, "", n)


def _lock_targets(cursor: Any, keys: list[tuple]) -> dict[int, _Target]:
    """The chunk's messages found by their lock keys, their orders (account emails: their rows) locked in lock
    order by two statements in all; {message id: target}."""
    order_ids = [key[2] for key in keys if key[0] == 0]
    account_ids = [key[2] for key in keys if key[0] == 1]
    rows = sql.messages_lock_for_events(cursor, order_message_ids=order_ids, account_message_ids=account_ids)
    return {row[0]: _Target(*row) for row in rows}


def _record(
    cursor: Any, event: IncomingEvent, suppressions: list[dict[str, Any]], target: _Target | None = None
) -> int | None:
    """delivery_event_record's work for one event inside the caller's transaction; the suppression row it
    asks for is appended to `suppressions` (added by the caller, in lock order). `target`: its message, found
    and locked already (else it is found and locked here)."""
    event_type = event.event_type if event.event_type in EventType.values else EventType.UNKNOWN
    occurred_at = event.occurred_at or timezone.now()
    target = target or _find_and_lock_target(cursor, event)
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
    if event_type == EventType.AUTORESPONDED:
        _note_on_timeline(target, "autoreplied", event.reason[:300])
        return stored
    status = EVENT_STATUS.get(event_type)
    if status is None:
        return stored
    reason = ("" if status == Status.DELIVERED else event.reason)[:300]
    moved = sql.message_advance(message_id=target.message_id, status=status, reason=reason, at=occurred_at)
    if moved:
        _note_on_timeline(target, status, reason)
    if (
        status in SUPPRESSING
        and target.organisation_id is not None
        and target.channel == OutgoingMessage.Channel.EMAIL
        and (status == Status.COMPLAINED or bounce_blames_address(reason))
    ):
        # Even when the message moved no further (a bounce after a complaint): the address is still bad. A bounce
        # for the PDF or for our sending domain says nothing against the address (notifications.refusals).
        suppressions.append(
            {
                "organisation_id": target.organisation_id,
                "address": target.recipient,
                "reason": status,
                "detail": reason,
                "message_id": target.message_id,
            }
        )
    return stored


def _note_on_timeline(target: _Target, what: str, reason: str) -> None:
    """The timeline entry "<email|sms>.<what>" about the event's message."""
    if target.order_id is None or target.organisation_id is None:  # an account email: no order, no timeline
        return
    sms = target.channel == OutgoingMessage.Channel.SMS
    timeline_record(
        order=Order(pk=target.order_id, organisation_id=target.organisation_id),
        action=f"{timeline_prefix(target.channel)}.{what}",
        actor_kind=TimelineEntry.ActorKind.SMS_PROVIDER if sms else TimelineEntry.ActorKind.WEBHOOK,
        data={
            "kind": KIND_WORDS.get(target.kind, target.kind),
            "recipient": phone_international(target.recipient) if sms else target.recipient,
            "message": target.message_id,
            "reason": reason,
        },
    )
