"""The customer's refund email. Owned by the order actions (issue 12 "act"), which replace this placeholder
with the real email (its kind's templates live in notifications); the refund lifecycle (orders.refunds)
calls only `refund_email_queue`."""

from __future__ import annotations

from notifications.models import OutgoingMessage
from notifications.services import message_queue

from .models import Refund


def refund_email_queue(refund: Refund) -> None:
    """Queue the "Refund notice" email for the refund to the order's contact, through the outbox.

    Call inside the transaction that records the refund as succeeded (holding the order's lock): the
    message is sent after commit, once per refund (its idempotency key is the refund's).
    """
    message_queue(
        order=refund.order,
        kind=OutgoingMessage.Kind.REFUND_NOTICE,
        recipient=refund.order.contact_email,
        idempotency_key=f"refund:{refund.pk}",
    )
