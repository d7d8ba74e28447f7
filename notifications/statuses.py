"""Message statuses, kept apart from the models so orders can use them without an import cycle."""

from django.db import models


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Deferred"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    COMPLAINED = "complained", "Marked as spam"


class OrderEmailStatus(models.TextChoices):
    """ "Order email status": the status of the order's latest ticket email, or none sent yet."""

    NOT_SENT = "not_sent", "Not sent"
    QUEUED = MessageStatus.QUEUED.value, MessageStatus.QUEUED.label
    SENDING = MessageStatus.SENDING.value, MessageStatus.SENDING.label
    SENT = MessageStatus.SENT.value, MessageStatus.SENT.label
    DEFERRED = MessageStatus.DEFERRED.value, MessageStatus.DEFERRED.label
    DELIVERED = MessageStatus.DELIVERED.value, MessageStatus.DELIVERED.label
    BOUNCED = MessageStatus.BOUNCED.value, MessageStatus.BOUNCED.label
    REJECTED = MessageStatus.REJECTED.value, MessageStatus.REJECTED.label
    FAILED = MessageStatus.FAILED.value, MessageStatus.FAILED.label
    COMPLAINED = MessageStatus.COMPLAINED.value, MessageStatus.COMPLAINED.label


# How far a message has come; an event never moves a message to a lower stage.
# A bounce or complaint after "delivered" is news (a late bounce), so they rank above it.
STAGE = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DEFERRED: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.FAILED: 5,
    MessageStatus.REJECTED: 5,
    MessageStatus.BOUNCED: 5,
    MessageStatus.COMPLAINED: 6,
}

PROBLEM_STATUSES = frozenset(
    {MessageStatus.BOUNCED, MessageStatus.REJECTED, MessageStatus.FAILED, MessageStatus.COMPLAINED}
)
IN_FLIGHT_STATUSES = frozenset(
    {MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DEFERRED}
)
