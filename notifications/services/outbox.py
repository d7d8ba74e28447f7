"""The outbox: every write to a message before its delivery events, from queueing to the send's outcome.

A message is written in the transaction of the action that wants it, handed to a worker after commit
(by the task's name: services don't import tasks), claimed by exactly one worker, marked as handed over
to the email service just before the call, and marked sent or failed. Its status only moves forward
(`models.STAGE`), except that a try the email service surely did not take goes back to queued with a
backoff; each move writes a timeline entry and, for ticket emails, updates the order's "Order email status"
in the same transaction. Every write that locks more than one row locks the order first, then the message.

docs/reliability.md states what this promises under which faults, and the tests that prove it.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Subquery
from django.utils import timezone

from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record

from .. import sql
from ..emails import SendResult, service_lookup
from ..models import MessageStatus, OutgoingMessage
from ..pacing import run_later
from ..sms import sms_lookup
from .words import KIND_WORDS as KIND_WORDS
from .words import timeline_prefix as timeline_prefix

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

SEND_MESSAGE_TASK = "notifications.tasks.send_message"

Kind = OutgoingMessage.Kind
Status = MessageStatus

# A message in "sending" without a hand-over this long had its worker die before calling the email service
# (building the PDF): the hard task time limit (CELERY_TASK_TIME_LIMIT) has killed any worker still at it.
STUCK_SENDING_AFTER = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
# A due message still queued this long was not taken by a worker: its task was lost or never published.
STALE_QUEUED_AFTER = timedelta(minutes=2)
# A retry's task may run a little before the backoff its message records (another worker's clock).
CLAIM_EARLY = timedelta(seconds=1)

WAITING_FOR_QUEUE = "Waiting for the queue: the task queue refused it, trying again every minute"
UNCONFIRMED = "it may have taken it: waiting for its report before any resend"
RESENT_UNCONFIRMED = "The email service never confirmed it or reported on it; sending it once more"
NEVER_CONFIRMED = (
    "The email service confirmed neither this email nor its resend and never reported on them: "
    "it may have arrived, ask the guest before sending again"
)
# The same for an SMS, in the SMS provider's words.
RESENT_UNCONFIRMED_SMS = "The SMS provider never confirmed it or reported on it; sending it once more"
NEVER_CONFIRMED_SMS = (
    "The SMS provider confirmed neither this SMS nor its resend and never reported on them: "
    "it may have arrived, ask the guest before sending again"
)


def max_attempts() -> int:
    """How many tries a message gets before it fails (EMAIL_MAX_ATTEMPTS)."""
    return settings.EMAIL_MAX_ATTEMPTS


def retry_delay(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th try failed: EMAIL_RETRY_DELAY (30 s), doubled per try, capped at
    30 min, with up to half a base delay of jitter so a provider outage doesn't end in a stampede."""
    base = settings.EMAIL_RETRY_DELAY
    return min(base * 2 ** max(attempt - 1, 0), 1800) + random.uniform(0, base / 2)


def message_timeline_data(message: OutgoingMessage, **extra: Any) -> dict[str, Any]:
    """What a timeline entry about the message keeps: its kind in words, the recipient, its id, and `extra`."""
    return {
        "kind": KIND_WORDS.get(message.kind, message.kind),
        "recipient": message.recipient_shown,
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
    channel: str = OutgoingMessage.Channel.EMAIL,
    pdf_attached: bool | None = None,
    not_before: datetime | None = None,
) -> OutgoingMessage:
    """Write the message to the outbox and hand it to a worker after commit.

    Call inside the transaction of the action that wants the message (holding the order's
    lock); if that transaction rolls back, nothing is sent. Callers whose own timeline entry
    already says a message goes out pass record_timeline=False. An SMS (`channel` "sms") goes
    to `recipient` in E.164 ("+4915123456789") and takes the same path as an email. A tickets email carries
    the PDF, or with `pdf_attached=False` the link to the customer's tickets page instead; None: as the event
    says (Event.attach_pdf_tickets). `not_before` paces a bulk send: the message is not claimed before then
    (`next_attempt_at`); its task is handed over with that countdown.
    """
    if pdf_attached is None:
        pdf_attached = kind not in OutgoingMessage.TICKET_KINDS or order.event.attach_pdf_tickets
    now = timezone.now()
    message = OutgoingMessage.objects.create(
        organisation_id=order.organisation_id,
        order=order,
        kind=kind,
        channel=channel,
        recipient=recipient,
        created_by=actor,
        idempotency_key=idempotency_key,
        pdf_attached=pdf_attached,
        next_attempt_at=max(not_before or now, now),
    )
    sql.order_email_status_sync(message)
    if record_timeline:
        action = f"{timeline_prefix(channel)}.queued"
        timeline_record(order=order, action=action, actor=actor, data=message_timeline_data(message))
    wait = max((message.next_attempt_at - now).total_seconds(), 0.0)
    transaction.on_commit(lambda: message_dispatch(message_id=message.pk, countdown=wait))
    return message


def message_dispatch(*, message_id: int, countdown: float = 0.0) -> bool:
    """Hand the message to the broker, to run in `countdown` seconds (a paced bulk send). A refusal (Redis down, or
    full) is logged and noted on the message ("waiting for the queue"), not raised: the sweeper tries again.

    The task is named, not imported: tasks call services, so services must not import tasks
    (NotificationsConfig.ready registers it, so eager mode and routing apply as for a direct call). An eager
    task ignores a countdown: with tasks in process, the pacing thread (`pacing.run_later`) waits instead."""
    try:
        send = current_app.signature(SEND_MESSAGE_TASK, args=(message_id,)).apply_async
        if countdown > 0 and current_app.conf.task_always_eager:
            run_later(countdown, send, retry=False)
        else:
            send(countdown=countdown, retry=False)  # 0: no ETA (celery ignores a false countdown)
    except Exception as error:
        log.warning("Could not queue message %s for sending; the outbox sweeper will retry: %s", message_id, error)
        try:
            OutgoingMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(status_reason=WAITING_FOR_QUEUE)
        except DatabaseError:
            log.warning("Could not note that message %s waits for the queue", message_id, exc_info=True)
        return False
    return True


def message_claim(*, message_id: int) -> OutgoingMessage | None:
    """queued → sending, for exactly one caller, once its backoff (`next_attempt_at`) is over: one try more.

    Returns the claimed message (its `attempts` is this try's number), or None when it is not queued or not
    due yet, so a task delivered twice sends once. Locks the order row, then the message row. Raises
    DatabaseError when the database can't be reached (the task tries again shortly).
    """
    now = timezone.now()
    with transaction.atomic():
        attempt = sql.message_start_sending(message_id=message_id, at=now, due=now + CLAIM_EARLY)
        if attempt is None:
            return None
        # Read in the claim's transaction: a connection lost before this read undoes the claim with it, so the
        # task's retry finds the message still queued (read after commit, it stayed "sending" for the sweeper).
        # With the order, event and organisation the email is built from: no second read in build_email.
        return OutgoingMessage.objects.select_related(
            "order__event", "order__organisation", "organisation", "user", "customer", "created_by"
        ).get(pk=message_id)


def message_hand_over(*, message_id: int, attempt: int) -> bool:
    """Record that try number `attempt` is being handed to the email service: call just before the call.

    From here on the try's outcome counts as unconfirmed until the service's answer is recorded, a delivery
    event arrives or the sweeper's later check settles it; it is never sent again blindly. False (send
    nothing) when the message is no longer in this try: someone else claimed or moved it. One row, autocommit.
    """
    return bool(
        OutgoingMessage.objects.filter(
            pk=message_id, status=Status.SENDING, attempts=attempt, handed_over_at=None
        ).update(handed_over_at=timezone.now())
    )


def message_mark_unconfirmed(*, message_id: int, reason: str) -> bool:
    """The handed-over try's answer was lost (a timeout after the request went out, a broken connection): say
    so on the message, which stays "sending" until a delivery event or the sweeper's later check settles it."""
    return bool(
        OutgoingMessage.objects.filter(pk=message_id, status=Status.SENDING)
        .exclude(handed_over_at=None)
        .update(status_reason=reason[:300])
    )


def _lock_message(message_id: int) -> OutgoingMessage:
    """The message with its order, the order row locked (two queries); the message row is locked second, by
    the write that follows. An account email, which has no order, has its own row locked.

    The one lock order of the portal: the order row, then the message row, as the order actions, the claim
    and the webhooks (sql.message_for_event) take them, so none of them deadlock each other. Every change of a
    message's status holds its order's lock, so the status read here stays true until the transaction ends.
    """
    of_message = OutgoingMessage.objects.filter(pk=message_id).values("order_id")
    if not list(Order.objects.select_for_update().filter(pk=Subquery(of_message)).values_list("pk", flat=True)):
        # An account email (a member invitation, a password reset, a customer's verification) has no order: its
        # own row is the lock.
        # A message that doesn't exist raises DoesNotExist here.
        return OutgoingMessage.objects.select_for_update().get(pk=message_id)
    # Read after the lock is held, in a statement of its own: a join locking the order would return the
    # message as it was before the wait (PostgreSQL rechecks only the locked row).
    return OutgoingMessage.objects.select_related("order").get(pk=message_id)


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
        action=f"{timeline_prefix(message.channel)}.{status}",
        actor_kind=actor_kind,
        data=message_timeline_data(message, reason=reason[:300]),
    )
    return True


def message_mark_sent(*, message_id: int, provider: str, provider_message_id: str) -> OutgoingMessage:
    """The email service accepted the message. A webhook may already have moved it further.

    Raises DatabaseError when the database can't take it: the caller tries again (tasks.record_sent), and until
    then the message stays unconfirmed, never sent again blindly.
    """
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


def _requeue(message: OutgoingMessage, *, cause: str, after: float = 0.0, saying: str = "") -> float | None:
    """sending → queued (the message's order locked), due in `after` seconds, saying "<cause>; trying again" (or
    `saying`); or failed with "<cause>; gave up after N tries" when its tries are used up. Returns `after`, or
    None when it failed."""
    if message.attempts >= max_attempts():
        _advance(message, Status.FAILED, reason=f"{cause}; gave up after {message.attempts} tries")
        return None
    now = timezone.now()
    message.status, message.status_at = Status.QUEUED, now
    message.status_reason = (saying or f"{cause}; trying again")[:300]
    message.next_attempt_at, message.handed_over_at = now + timedelta(seconds=after), None
    message.save(update_fields=["status", "status_reason", "status_at", "next_attempt_at", "handed_over_at"])
    sql.order_email_status_sync(message)
    return after


def message_release_for_retry(
    *, message_id: int, reason: str, after: float | None = None, attempt: int | None = None
) -> float | None:
    """sending → queued after a try the email service surely did not take (it could not be reached, or answered
    with an error), due again after the backoff (`retry_delay`, or `after` seconds). When the message's tries
    (`attempts`, EMAIL_MAX_ATTEMPTS) are used up it fails instead, with the reason. With `attempt`: only while
    the message is still in that try, not handed over (a release made later, when the database is back).

    Returns the seconds until the retry is due, or None when no retry follows (failed, or no longer sending).
    Locks the order row, then the message row.
    """
    with transaction.atomic():
        message = _lock_message(message_id)
        if message.status != Status.SENDING:
            return None
        if attempt is not None and (message.attempts != attempt or message.handed_over_at is not None):
            return None
        delay = retry_delay(message.attempts) if after is None else after
        return _requeue(message, cause=reason, after=delay)


def message_settle_unconfirmed(*, message_id: int, older_than: datetime) -> bool:
    """Settle a try handed over before `older_than` that nothing confirmed since (no answer, no delivery event).

    The email service is asked when it can tell (the sandbox, which is ours): it has the message → sent; it has
    not → sent again. When it can't tell, the message is sent once more, and that is recorded (a timeline entry,
    `unconfirmed_resends`); a resend that is unconfirmed in turn fails with NEVER_CONFIRMED. Returns whether the
    message is queued again (to be dispatched).
    """
    message = OutgoingMessage.objects.select_related("order").get(pk=message_id)
    # Outside the transaction: it may ask the email service or the SMS provider.
    found = sms_lookup(message) if message.channel == OutgoingMessage.Channel.SMS else service_lookup(message)
    with transaction.atomic():
        message = _lock_message(message_id)
        handed_over = message.handed_over_at
        if message.status != Status.SENDING or handed_over is None or handed_over >= older_than:
            return False  # settled meanwhile
        if isinstance(found, SendResult):
            message.provider, message.provider_message_id = found.provider[:40], found.provider_message_id[:200]
            message.sent_at = handed_over
            message.save(update_fields=["provider", "provider_message_id", "sent_at"])
            _advance(message, Status.SENT)
            return False
        if found is None:
            sms = message.channel == OutgoingMessage.Channel.SMS
            never = NEVER_CONFIRMED_SMS if sms else NEVER_CONFIRMED
            if message.unconfirmed_resends:
                _advance(message, Status.FAILED, reason=never)
                return False
            if _requeue(message, cause=never, saying=RESENT_UNCONFIRMED_SMS if sms else RESENT_UNCONFIRMED) is None:
                return False  # its tries are used up: failed, with the reason
            message.unconfirmed_resends += 1
            message.save(update_fields=["unconfirmed_resends"])
            if message.order is not None:  # an account email has no timeline
                timeline_record(
                    order=message.order,
                    action=f"{timeline_prefix(message.channel)}.resent_unconfirmed",
                    data=message_timeline_data(message),
                )
            return True
        service = "SMS provider" if message.channel == OutgoingMessage.Channel.SMS else "email service"
        return _requeue(message, cause=f"The {service} never received it") is not None


def messages_requeue_stale(
    *,
    queued_for: timedelta = STALE_QUEUED_AFTER,
    sending_for: timedelta = STUCK_SENDING_AFTER,
    unconfirmed_for: timedelta | None = None,
    limit: int = 500,
) -> int:
    """The outbox sweeper (beat, every minute): hand every message that should be moving to a worker again.

    - queued and due (`next_attempt_at`, the backoff) for `queued_for` without a worker taking it: the broker
      refused it or lost its task. A message waiting for its retry is left to its retry: never two chains.
    - "sending" without a hand-over for `sending_for`: its worker died before calling the email service;
      queued again at once (that try counts).
    - handed over for `unconfirmed_for` (EMAIL_UNCONFIRMED_RESEND_AFTER) with nothing confirming it:
      `message_settle_unconfirmed`.

    Returns how many messages were handed to the broker.
    """
    now = timezone.now()
    unconfirmed_for = unconfirmed_for or timedelta(seconds=settings.EMAIL_UNCONFIRMED_RESEND_AFTER)
    sending = OutgoingMessage.objects.filter(status=Status.SENDING)
    requeued: list[int] = []
    stuck = sending.filter(handed_over_at=None, status_at__lt=now - sending_for).order_by("status_at")
    for message_id in list(stuck.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            message = _lock_message(message_id)
            if message.status != Status.SENDING or message.handed_over_at is not None:
                continue  # moved on meanwhile
            if _requeue(message, cause="The sending worker stopped before handing it over") is not None:
                requeued.append(message_id)
    unconfirmed = sending.filter(handed_over_at__lt=now - unconfirmed_for).order_by("handed_over_at")
    for message_id in list(unconfirmed.values_list("pk", flat=True)[:limit]):
        try:
            if message_settle_unconfirmed(message_id=message_id, older_than=now - unconfirmed_for):
                requeued.append(message_id)
        except Exception:  # asking the service failed: this message waits for the next sweep, the others go on
            log.warning("Could not settle the unconfirmed message %s", message_id, exc_info=True)
    due = OutgoingMessage.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now - queued_for)
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(message_dispatch(message_id=message_id) for message_id in [*requeued, *ids])
