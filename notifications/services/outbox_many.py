"""The outbox for many orders at once: a bulk send's chunk (orders/bulk_chunk.py) queues its messages in one
INSERT instead of one `message_queue` per order, with the same rows and the same order email status.

The hand-over after commit is one task for the chunk (`messages_dispatch_many`, run by a worker) instead of one
broker publish per message in the request: the worker hands each message over with the countdown to its due time
(the pacing), as `message_dispatch` does. If that task is lost, the messages stay queued and the outbox sweeper
hands them over (STALE_QUEUED_AFTER), as for a lost send task; if it runs twice, the claim still sends each once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from celery import current_app
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from orders.models import Order

from ..models import MessageStatus, OutgoingMessage
from . import outbox

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

DISPATCH_MANY_TASK = "notifications.tasks.dispatch_messages"


@dataclass(frozen=True)
class MessageRequest:
    """One order's message of a batch: `recipient` (an address), due not before `not_before` (the pacing)."""

    order: Order
    recipient: str
    not_before: datetime | None = None


def messages_queue_many(
    *, requests: list[MessageRequest], kind: str, actor: User | None, idempotency_key: str
) -> list[OutgoingMessage]:
    """Write one email message per request to the outbox in one INSERT, sync the orders' "Order email status" in one
    UPDATE, and after commit hand them to a worker that hands each over with the countdown to its due time: what
    `message_queue` does for one order (record_timeline=False, the event's PDF setting), for many.

    Call inside the transaction of the action, holding every request's order lock (order rows first, then
    messages: the house lock order). `idempotency_key` is unique per order (message_unique_order_idempotency_key):
    the caller has checked that none of the orders has a message under it. Returns the messages, in request order.
    """
    if not requests:
        return []
    now = timezone.now()
    rows = [
        OutgoingMessage(
            organisation_id=r.order.organisation_id,
            order=r.order,
            kind=kind,
            channel=OutgoingMessage.Channel.EMAIL,
            recipient=r.recipient,
            created_by=actor,
            idempotency_key=idempotency_key,
            pdf_attached=kind not in OutgoingMessage.TICKET_KINDS or r.order.event.attach_pdf_tickets,
            next_attempt_at=max(r.not_before or now, now),
            created_at=now,
        )
        for r in requests
    ]
    messages = OutgoingMessage.objects.bulk_create(rows)
    if kind in OutgoingMessage.TICKET_KINDS:
        _order_email_status_sync(messages)
    message_ids = [m.pk for m in messages]
    transaction.on_commit(lambda: _hand_over_many(message_ids))
    return messages


def _order_email_status_sync(messages: list[OutgoingMessage]) -> None:
    """sql.order_email_status_sync for a batch of new (queued) ticket messages: each order whose latest ticket
    email is one of them shows "queued", in one UPDATE."""
    latest = OutgoingMessage.objects.filter(order_id=OuterRef("pk"), kind__in=OutgoingMessage.TICKET_KINDS)
    latest_id = Subquery(latest.order_by("-created_at", "-id").values("pk")[:1])
    Order.objects.filter(pk__in=[m.order_id for m in messages]).exclude(email_status=MessageStatus.QUEUED).alias(
        latest_id=latest_id
    ).filter(latest_id__in=[m.pk for m in messages]).update(email_status=MessageStatus.QUEUED)


def _hand_over_many(message_ids: list[int]) -> None:
    """One task for the batch (by name: services don't import tasks). Refused (Redis down, or full): noted on the
    messages as for `message_dispatch`, not raised; the sweeper hands them over later."""
    try:
        current_app.signature(DISPATCH_MANY_TASK, args=(message_ids,)).apply_async(retry=False)
    except Exception as error:
        log.warning(
            "Could not queue the hand-over of %s messages; the outbox sweeper will: %s", len(message_ids), error
        )
        try:
            OutgoingMessage.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED).update(
                status_reason=outbox.WAITING_FOR_QUEUE
            )
        except DatabaseError:
            log.warning("Could not note that %s messages wait for the queue", len(message_ids), exc_info=True)


def messages_dispatch_many(*, message_ids: list[int]) -> int:
    """Hand each of the messages still queued to the broker (`message_dispatch`), to run when it is due (its
    `next_attempt_at`: the bulk send's pacing). Returns how many were handed over. A message sent or claimed
    meanwhile is left alone; one handed over twice is still sent once (the claim)."""
    now = timezone.now()
    due = OutgoingMessage.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED).order_by("next_attempt_at")
    handed = 0
    for message_id, next_attempt_at in due.values_list("pk", "next_attempt_at"):
        wait = max((next_attempt_at - now).total_seconds(), 0.0)
        handed += outbox.message_dispatch(message_id=message_id, countdown=wait)
    return handed
