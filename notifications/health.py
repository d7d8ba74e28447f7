"""The outbox's line in `GET /health/` (organiser_portal.health): emails that should be moving and are not.

Failing when a message has been due for OUTBOX_LATE_AFTER and is still queued: the task queue refused it (Redis
down or full: the message says "waiting for the queue") or no worker takes it. Messages handed to the email
service whose answer was lost are counted in the detail, not failed: the sweeper settles them.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from organiser_portal.health import Check

from .models import MessageStatus, OutgoingMessage

OUTBOX_LATE_AFTER = timedelta(minutes=5)


def outbox_check() -> Check:
    now = timezone.now()
    late = Q(status=MessageStatus.QUEUED, next_attempt_at__lte=now - OUTBOX_LATE_AFTER)
    unconfirmed = Q(status=MessageStatus.SENDING, handed_over_at__isnull=False)
    counts = OutgoingMessage.objects.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).aggregate(
        late=Count("pk", filter=late),
        oldest=Min("next_attempt_at", filter=late),
        unconfirmed=Count("pk", filter=unconfirmed),
    )
    note = f"; {counts['unconfirmed']} handed over, awaiting confirmation" if counts["unconfirmed"] else ""
    if counts["late"]:
        minutes = (now - counts["oldest"]).total_seconds() / 60
        return Check(
            False,
            f"{counts['late']} emails waiting for the task queue or a worker, the oldest for {minutes:.0f} min{note}",
        )
    return Check(True, f"no email waiting{note}")
