"""The outbox: every write to a message before its delivery events, from queueing to the send's outcome.

A message is written in the transaction of the action that wants it, handed to a worker after commit
(by the task's name: services don't import tasks), claimed by exactly one worker, and marked sent or
failed. Its status only moves forward (`models.STAGE`); each move writes a timeline entry and, for
ticket emails, updates the order's "Order email status" in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record

from .. import sql
from ..models import MessageStatus, OutgoingMessage

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

SEND_MESSAGE_TASK = "notifications.tasks.send_message"

Kind = OutgoingMessage.Kind
Status = MessageStatus

# How the timeline names each kind of email ("Tickets email delivered to …").
KIND_WORDS: dict[str, str] = {
    Kind.TICKETS: "Tickets",
    Kind.TICKETS_RESEND: "Resent tickets",
    Kind.REFUND_NOTICE: "Refund notice",
    Kind.CANCELLATION_NOTICE: "Cancellation notice",
    Kind.MEMBER_INVITATION: "Member invitation",
    Kind.PASSWORD_RESET: "Password reset",
}

# A message stuck in "sending" this long had its worker die mid-send (task time limit is 2 min).
STUCK_SENDING_AFTER = timedelta(minutes=15)
STALE_QUEUED_AFTER = timedelta(minutes=5)


def message_timeline_data(message: OutgoingMessage, **extra: Any) -> dict[str, Any]:
    """What a timeline entry about the message keeps: its kind in words, the recipient, its id, and `extra`."""
    return {
        "kind": KIND_WORDS.get(message.kind, message.kind),
        "recipient": message.recipient,
        "message": message.pk,
        **extra,
    }


def message_queue(
    *,
    order: Order,
    kind: str,
    recipient: str,
    actor: User | None = None,
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
    sql.order_email_status_sync(message)
    if record_timeline:
        timeline_record(order=order, action="email.queued", actor=actor, data=message_timeline_data(message))
    transaction.on_commit(lambda: message_dispatch(message_id=message.pk))
    return message


def account_message_queue(
    *, kind: str, user: User, organisation_id: int | None = None, actor: User | None = None, idempotency_key: str = ""
) -> OutgoingMessage:
    """Write an email about a member's login (a member invitation, a password reset) to the outbox and hand it
    to a worker after commit, like `message_queue`, but about no order (no timeline, no email status).

    The worker renders the link (organiser_portal.tokens) when it sends, so no usable token is ever stored.
    Call inside the transaction of the action that wants it; if that rolls back, nothing is sent.
    Raises ValueError for a kind that isn't in OutgoingMessage.ACCOUNT_KINDS.
    """
    if kind not in OutgoingMessage.ACCOUNT_KINDS:
        raise ValueError(f"{kind} is not an account email")
    message = OutgoingMessage.objects.create(
        organisation_id=organisation_id,
        user=user,
        kind=kind,
        recipient=user.email,
        created_by=actor,
        idempotency_key=idempotency_key[:80],
    )
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
    if not sql.message_start_sending(message_id=message_id, at=timezone.now()):
        return None
    # With the order, event and organisation the email is built from: no second read in build_email.
    return OutgoingMessage.objects.select_related(
        "order__event", "order__organisation", "organisation", "user", "created_by"
    ).get(pk=message_id)


def _lock_message(message_id: int) -> OutgoingMessage:
    """The message with its order, the order row locked (one query); an account email's own row.

    Same lock order as the order actions and the webhooks (order first), so they never deadlock.
    Only the order row is locked: the message's status is changed by guarded UPDATEs
    (sql.message_advance), which never move it back even if this read is older than a concurrent change.
    """
    try:  # the filter on the order makes the join an inner one, which PostgreSQL may lock
        messages = OutgoingMessage.objects.filter(order__isnull=False).select_related("order")
        return messages.select_for_update(of=("order",)).get(pk=message_id)
    except OutgoingMessage.DoesNotExist:  # an account email (no order): its own row
        return OutgoingMessage.objects.select_for_update().get(pk=message_id)


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
    if not sql.message_advance(message_id=message.pk, status=status, reason=reason[:300], at=at):
        return False
    message.status, message.status_reason, message.status_at = status, reason[:300], at
    if message.order is None:  # an account email: no order, so no timeline
        return True
    timeline_record(
        order=message.order,
        action=f"email.{status}",
        actor_kind=actor_kind,
        data=message_timeline_data(message, reason=reason[:300]),
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
    """The end of a send that can't succeed, with the reason: rejected (the email service refused the address)
    or failed (our side or unknown: not configured, credentials refused, nothing to send, retries used up)."""
    if status not in (Status.REJECTED, Status.FAILED):
        raise ValueError(f"A message fails as rejected or failed, not as {status}")
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
            sql.order_email_status_sync(OutgoingMessage.objects.get(pk=message_id))


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
