"""Celery tasks: thin, take IDs, own their retries, safe to run twice."""

from __future__ import annotations

import logging
import random

from celery import shared_task

from . import sandbox, services
from .emails import OurSideConfigurationError, PermanentSendError, TemporarySendError, send_email

log = logging.getLogger(__name__)

MAX_RETRIES = 8


def _backoff(retries: int) -> int:
    """30 s, 1 min, 2 min … capped at 30 min, with jitter so a provider outage doesn't end in a stampede."""
    return min(30 * 2**retries, 1800) + random.randint(0, 15)


@shared_task(name=services.SEND_MESSAGE_TASK, bind=True, max_retries=MAX_RETRIES, acks_late=True)
def send_message(self, message_id: int) -> str:
    message = services.message_claim(message_id=message_id)
    if message is None:
        return "skipped: not queued"
    try:
        result = send_email(message)
    except OurSideConfigurationError as error:
        # Retrying can't fix settings: fail now and tell the operator, instead of retrying for 90 minutes.
        log.error("Sending message %s failed, fix the email settings: %s", message_id, error.reason)
        services.message_mark_failed(message_id=message_id, status="failed", reason=error.reason)
        return f"failed: {error.reason}"
    except PermanentSendError as error:
        services.message_mark_failed(message_id=message_id, status=error.status, reason=error.reason)
        return f"refused: {error.reason}"
    except Exception as error:
        # A timeout, the service's own error or one of ours: never the address's fault, and the reason says so.
        if isinstance(error, TemporarySendError):
            cause = error.reason
        else:
            cause = f"Sending error on our side: {error}".splitlines()[0][:200]
        if self.request.retries >= self.max_retries:
            reason = f"{cause}; gave up after {self.request.retries + 1} tries"
            services.message_mark_failed(message_id=message_id, status="failed", reason=reason)
            return "failed: gave up"
        log.warning("Sending message %s failed, retrying: %s", message_id, error)
        services.message_release_for_retry(message_id=message_id, reason=f"{cause}; trying again")
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
    services.message_mark_sent(
        message_id=message_id, provider=result.provider, provider_message_id=result.provider_message_id
    )
    return "sent"


@shared_task
def sweep_outbox() -> int:
    """Periodic (celery beat): re-queue messages the broker or a worker lost."""
    return services.messages_requeue_stale()


@shared_task(name=sandbox.SANDBOX_REPORT_TASK)
def sandbox_report(message_id: int) -> list[int]:
    """The sandbox email service reports what happened to a message it "sent" (EMAIL_SERVICE=sandbox)."""
    return sandbox.sandbox_report(message_id=message_id)
