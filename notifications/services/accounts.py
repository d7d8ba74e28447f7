"""The outbox's emails about no order: a member's login (an invitation, a password reset) and a customer
account's verification. Written like every message (outbox.py), without a timeline or an order email status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from guests.models import Customer

from ..models import OutgoingMessage
from .outbox import message_dispatch

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def account_message_queue(
    *, kind: str, user: User, organisation_id: int | None = None, actor: User | None = None, idempotency_key: str = ""
) -> OutgoingMessage:
    """Write an email about a member's login (a member invitation, a password reset) to the outbox and hand it
    to a worker after commit, like `message_queue`, but about no order (no timeline, no email status).

    The worker renders the link (organiser_portal.tokens) when it sends, so no usable token is ever stored.
    Call inside the transaction of the action that wants it; if that rolls back, nothing is sent.
    Raises ValueError for a kind that isn't in OutgoingMessage.ACCOUNT_KINDS.
    """
    if kind not in OutgoingMessage.ACCOUNT_KINDS:
        raise ValueError(f"{kind} is not an account email")
    message = OutgoingMessage.objects.create(
        organisation_id=organisation_id,
        user=user,
        kind=kind,
        recipient=user.email,
        created_by=actor,
        idempotency_key=idempotency_key[:80],
    )
    transaction.on_commit(lambda: message_dispatch(message_id=message.pk))
    return message


def customer_message_queue(
    *, customer: Customer, actor: User | None = None, idempotency_key: str = ""
) -> OutgoingMessage:
    """Write a customer account's verification email to the outbox and hand it to a worker after commit, like
    `account_message_queue`: about no order, and its link is signed when the worker renders it
    (guests.verification), so no usable token is ever stored. Call inside the action's transaction."""
    message = OutgoingMessage.objects.create(
        organisation_id=customer.organisation_id,
        customer=customer,
        kind=OutgoingMessage.Kind.CUSTOMER_VERIFICATION,
        recipient=customer.email,
        created_by=actor,
        idempotency_key=idempotency_key[:80],
    )
    transaction.on_commit(lambda: message_dispatch(message_id=message.pk))
    return message
