"""The refund email to the customer, queued through the outbox when a refund's money went back.

orders.refunds calls `refund_email_queue` when a refund succeeds (with `refund.notify_customer`); the cancellation
email is queued by orders.services.order_cancel itself. The email is built by notifications.emails, which finds
the refund by the message's idempotency key (`refund_email_key`).
"""

from __future__ import annotations

from notifications.models import OutgoingMessage
from notifications.services import message_queue

from .models import Refund

KEY_PREFIX = "refund:"


def refund_email_key(refund: Refund) -> str:
    """The refund email's idempotency key: one email per refund, however often a success is reported."""
    return f"{KEY_PREFIX}{refund.idempotency_key}"[:80]


def refund_email_queue(refund: Refund) -> None:
    """Queue "your money is on its way back" to the order's contact address, once per refund.

    Call inside the transaction that moves the refund to succeeded, holding the order's lock; nothing is sent if
    it rolls back. Writes the "email queued" timeline entry.
    """
    order = refund.order
    key = refund_email_key(refund)
    if order.messages.filter(idempotency_key=key).exists():
        return
    message_queue(
        order=order, kind=OutgoingMessage.Kind.REFUND_NOTICE, recipient=order.contact_email, idempotency_key=key
    )
