"""Delivery events: what the email service's webhooks report about a message, kept once, moving it forward.

Every event is stored as a DeliveryEvent, once (a duplicate changes nothing). Out-of-order events end in
the right state because a message only ever moves to a later stage (`models.STAGE`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record

from .. import sql
from ..models import DeliveryEvent, MessageStatus, OutgoingMessage
from .outbox import KIND_WORDS

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
    (out of office) changes no status: it is kept and noted on the timeline. A status change
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
        if event_type == EventType.AUTORESPONDED:
            _note_on_timeline(target, "email.autoreplied", event.reason[:300])
            return stored
        status = EVENT_STATUS.get(event_type)
        if status is None:
            return stored
        reason = ("" if status == Status.DELIVERED else event.reason)[:300]
        moved = sql.message_advance(message_id=target.message_id, status=status, reason=reason, at=occurred_at)
        if moved:
            _note_on_timeline(target, f"email.{status}", reason)
    return stored


def _note_on_timeline(target: _Target, action: str, reason: str) -> None:
    if target.order_id is None or target.organisation_id is None:  # an account email: no order, no timeline
        return
    timeline_record(
        order=Order(pk=target.order_id, organisation_id=target.organisation_id),
        action=action,
        actor_kind=TimelineEntry.ActorKind.WEBHOOK,
        data={
            "kind": KIND_WORDS.get(target.kind, target.kind),
            "recipient": target.recipient,
            "message": target.message_id,
            "reason": reason,
        },
    )
