"""Every write to messages: the outbox (`outbox.py`: queue, claim, sent or failed, the sweeper; `outbox_many.py`: a
bulk send's chunk at once; `accounts.py`: the emails about no order) and the delivery events the email service's
webhooks report (`delivery.py`). Callers import from here."""

from .accounts import account_message_queue, customer_message_queue
from .delivery import IncomingEvent, delivery_event_record, delivery_events_record
from .outbox import (
    SEND_MESSAGE_TASK,
    UNCONFIRMED,
    message_claim,
    message_dispatch,
    message_hand_over,
    message_mark_failed,
    message_mark_sent,
    message_mark_unconfirmed,
    message_queue,
    message_release_for_retry,
    message_settle_unconfirmed,
    message_timeline_data,
    messages_requeue_stale,
)
from .outbox_many import DISPATCH_MANY_TASK, MessageRequest, messages_dispatch_many, messages_queue_many
from .suppression import SUPPRESSING, SuppressionError, suppression_add, suppression_remove

__all__ = [
    "DISPATCH_MANY_TASK",
    "SEND_MESSAGE_TASK",
    "SUPPRESSING",
    "UNCONFIRMED",
    "IncomingEvent",
    "MessageRequest",
    "account_message_queue",
    "customer_message_queue",
    "delivery_event_record",
    "delivery_events_record",
    "message_claim",
    "message_dispatch",
    "message_hand_over",
    "message_mark_failed",
    "message_mark_sent",
    "message_mark_unconfirmed",
    "message_queue",
    "message_release_for_retry",
    "message_settle_unconfirmed",
    "message_timeline_data",
    "messages_dispatch_many",
    "messages_queue_many",
    "messages_requeue_stale",
    "SuppressionError",
    "suppression_add",
    "suppression_remove",
]
