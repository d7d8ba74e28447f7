"""Celery tasks of the tickets app: thin, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError, connection

from . import find_tickets

log = logging.getLogger(__name__)


@shared_task(name=find_tickets.FIND_TICKETS_TASK, bind=True, acks_late=True, max_retries=8)
def find_my_tickets_send(self, organisation_id: int, email: str, request_key: str) -> str:
    """Send "Find my tickets"'s one email for this request (tickets.find_tickets.find_my_tickets_send). The
    database away: tried again after 2, 4 … s (at most 60 s); the request's key keeps a repeat from sending twice."""
    try:
        message = find_tickets.find_my_tickets_send(
            organisation_id=organisation_id, email=email, request_key=request_key
        )
    except DatabaseError as error:
        connection.close_if_unusable_or_obsolete()
        raise self.retry(countdown=min(2 ** (self.request.retries + 1), 60), exc=error) from error
    return f"message {message.pk}" if message else "no current order"
