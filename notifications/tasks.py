"""Celery tasks: thin, take IDs, own their retries, safe to run twice.

How a send ends, and what each ending promises, is written down in docs/reliability.md.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.db import DatabaseError, connection

from . import sandbox, services, sms_sandbox
from .emails import (
    HandOverRefused,
    OurSideConfigurationError,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    UnconfirmedSendError,
    send_email,
)
from .models import OutgoingMessage
from .sms import send_sms

log = logging.getLogger(__name__)

# A send task that finds the database away at its claim tries again after 2, 4, 8 … s (at most 60 s), this
# many times, instead of being dropped until the sweeper runs.
CLAIM_RETRIES = 12
# Recording an accepted send: quick tries in the task (pauses in seconds), then record_sent every 2, 4 … 30 s for
# about 75 min: past EMAIL_UNCONFIRMED_RESEND_AFTER, and soon after the database is back, before the sweeper would
# settle the hand-over by a resend.
RECORD_PAUSES = (0.2, 0.5, 1.0)
RECORD_RETRIES = 150
RECORD_DELAY_MAX = 30


def _database_reset() -> None:
    """Drop the connection if the error broke it, so the next try opens a new one."""
    connection.close_if_unusable_or_obsolete()


@shared_task(name=services.SEND_MESSAGE_TASK, bind=True, max_retries=None, acks_late=True)
def send_message(self, message_id: int, claim_failures: int = 0) -> str:
    """Claim the message, hand it to the email service (an SMS: the SMS provider), record the outcome. The message
    counts its tries."""
    try:
        message = services.message_claim(message_id=message_id)
    except DatabaseError as error:
        if claim_failures >= CLAIM_RETRIES:
            log.error("Could not claim message %s, the database is away; the outbox sweeper will", message_id)
            return "dropped: the database is away"
        log.warning("Could not claim message %s, trying again shortly: %s", message_id, error)
        _database_reset()
        countdown = min(2 ** (claim_failures + 1), 60)
        raise self.retry(
            args=(message_id,), kwargs={"claim_failures": claim_failures + 1}, countdown=countdown, exc=error
        ) from error
    if message is None:
        return "skipped: not queued, or not due"
    attempt = message.attempts
    send = send_sms if message.channel == OutgoingMessage.Channel.SMS else send_email
    try:
        result = send(message, hand_over=lambda: services.message_hand_over(message_id=message_id, attempt=attempt))
    except HandOverRefused:
        return "skipped: claimed again meanwhile"
    except OurSideConfigurationError as error:
        # Retrying can't fix settings: fail now and tell the operator, instead of retrying for 90 minutes.
        log.error("Sending message %s failed, fix the %s settings: %s", message_id, message.channel, error.reason)
        services.message_mark_failed(message_id=message_id, status="failed", reason=error.reason)
        return f"failed: {error.reason}"
    except PermanentSendError as error:
        services.message_mark_failed(message_id=message_id, status=error.status, reason=error.reason)
        return f"refused: {error.reason}"
    except UnconfirmedSendError as error:
        # It may have been taken: never sent again blindly. A delivery event or the sweeper's check settles it.
        log.warning("Message %s was handed over, outcome unknown: %s", message_id, error.reason)
        try:
            services.message_mark_unconfirmed(message_id=message_id, reason=f"{error.reason}; {services.UNCONFIRMED}")
        except DatabaseError:
            log.warning("Could not note message %s as unconfirmed", message_id, exc_info=True)
        return "unconfirmed"
    except Exception as error:
        # Not taken by the email service (unreachable, its own error) or failed on our side before the hand-over
        # (the PDF, the database): never the address's fault, and the reason says so.
        if isinstance(error, TemporarySendError):
            cause = error.reason
        else:
            cause = f"Sending error on our side: {error}".splitlines()[0][:200]
        log.warning("Sending message %s failed: %s", message_id, error)
        if isinstance(error, DatabaseError):
            _database_reset()  # the database went away between the claim and the hand-over
        try:
            delay = services.message_release_for_retry(message_id=message_id, reason=cause)
        except DatabaseError as release_error:
            # Claimed, surely not handed over, and the database away: put it back once the database is back,
            # rather than leave it "sending" until the sweeper's wait for a dead worker is over.
            log.warning("Could not release message %s for its retry: %s", message_id, release_error)
            _database_reset()
            return _release_later(message_id, attempt, cause)
        if delay is None:
            return "failed: gave up"
        raise self.retry(args=(message_id,), kwargs={}, exc=error, countdown=delay) from error
    return _record_sent(message_id, result)


def _record_sent(message_id: int, result: SendResult) -> str:
    """Record the accepted send; a database error is tried again (quickly, then by record_sent), never resent."""
    for pause in (*RECORD_PAUSES, None):
        try:
            services.message_mark_sent(
                message_id=message_id, provider=result.provider, provider_message_id=result.provider_message_id
            )
            return "sent"
        except DatabaseError as error:
            log.warning("Could not record message %s as sent: %s", message_id, error)
            _database_reset()
            if pause is not None:
                time.sleep(pause)
    try:
        record_sent.apply_async(args=(message_id, result.provider, result.provider_message_id), countdown=2)
    except Exception:
        # Still "sending", handed over: a delivery event or the sweeper's check settles it, never a blind resend.
        log.error("Could not queue the recording of message %s as sent", message_id, exc_info=True)
    return "sent: recorded later"


def _release_later(message_id: int, attempt: int, reason: str) -> str:
    try:
        release_for_retry.apply_async(args=(message_id, attempt, reason), countdown=2)
    except Exception:
        # Still "sending", never handed over: the sweeper queues it again after the task time limit.
        log.error("Could not queue the release of message %s", message_id, exc_info=True)
    return "failed before the hand-over: released later"


@shared_task(bind=True, max_retries=RECORD_RETRIES, acks_late=True)
def release_for_retry(self, message_id: int, attempt: int, reason: str) -> str:
    """Put back try number `attempt`, which failed before the hand-over while the database was away, and send it
    after its backoff; nothing when the message has moved on since (the sweeper, a new claim)."""
    try:
        delay = services.message_release_for_retry(message_id=message_id, reason=reason, attempt=attempt)
    except DatabaseError as error:
        _database_reset()
        raise self.retry(exc=error, countdown=min(2 ** (self.request.retries + 1), RECORD_DELAY_MAX)) from error
    if delay is None:
        return "skipped: moved on, or gave up"
    services.message_dispatch(message_id=message_id, countdown=delay)
    return "released"


@shared_task(bind=True, max_retries=RECORD_RETRIES, acks_late=True)
def record_sent(self, message_id: int, provider: str, provider_message_id: str) -> str:
    """Record a send the email service accepted when the database could not take it at once."""
    try:
        services.message_mark_sent(message_id=message_id, provider=provider, provider_message_id=provider_message_id)
    except DatabaseError as error:
        _database_reset()
        raise self.retry(exc=error, countdown=min(2 ** (self.request.retries + 1), RECORD_DELAY_MAX)) from error
    return "sent"


@shared_task(name=services.DISPATCH_MANY_TASK, acks_late=True)
def dispatch_messages(message_ids: list[int]) -> int:
    """Hand a bulk send chunk's messages to the broker, each with the countdown to its due time (the pacing)."""
    return services.messages_dispatch_many(message_ids=message_ids)


@shared_task
def sweep_outbox() -> int:
    """Periodic (celery beat): hand messages that should be moving to a worker again (services.messages_requeue_stale)."""
    return services.messages_requeue_stale()


@shared_task(name=sandbox.SANDBOX_REPORT_TASK)
def sandbox_report(message_id: int) -> list[int]:
    """The sandbox email service reports what happened to a message it "sent" (EMAIL_SERVICE=sandbox)."""
    return sandbox.sandbox_report(message_id=message_id)


@shared_task(name=sms_sandbox.SMS_SANDBOX_REPORT_TASK)
def sms_sandbox_report(message_id: int) -> list[int]:
    """The sandbox SMS provider reports what happened to an SMS it "sent" (SMS_PROVIDER=sandbox)."""
    return sms_sandbox.sms_sandbox_report(message_id=message_id)
