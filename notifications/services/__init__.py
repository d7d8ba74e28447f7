"""Every write to messages: the outbox (`outbox.py`: queue, claim, sent or failed, the sweeper) and the
delivery events the email service's webhooks report (`delivery.py`). Callers import from here."""

from .delivery import EVENT_STATUS, IncomingEvent, delivery_event_record
from .outbox import (
    KIND_WORDS,
    SEND_MESSAGE_TASK,
    STALE_QUEUED_AFTER,
    STUCK_SENDING_AFTER,
    message_claim,
    message_dispatch,
    message_mark_failed,
    message_mark_sent,
    message_queue,
    message_release_for_retry,
    message_timeline_data,
    messages_requeue_stale,
)

__all__ = [
    "EVENT_STATUS",
    "KIND_WORDS",
    "SEND_MESSAGE_TASK",
    "STALE_QUEUED_AFTER",
    "STUCK_SENDING_AFTER",
    "IncomingEvent",
    "delivery_event_record",
    "message_claim",
    "message_dispatch",
    "message_mark_failed",
    "message_mark_sent",
    "message_queue",
    "message_release_for_retry",
    "message_timeline_data",
    "messages_requeue_stale",
]
