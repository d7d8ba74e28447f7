"""Test setup for the refund lifecycle: paid orders through a chosen provider, and a requested refund made as the
order actions (orders.services.order_refund) make it. Setup only: the lifecycle under test starts after it."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from urllib.parse import parse_qs

from django.db import transaction
from django.utils import timezone

from orders.models import Order, Refund
from orders.payments import order_mark_confirming_payment, order_mark_paid, order_start_payment
from orders.services import LineRequest, order_create
from orders.timeline import timeline_record
from tickets.models import Ticket

STRIPE_REFUNDS = "https://api.stripe.com/v1/refunds"
TEST_STRIPE_KEY = "sk_test_portal"
TEST_WEBHOOK_SECRET = "whsec_test_portal_secret"


def paid_order(*, event, ticket_type, provider: str = "sandbox", quantity: int = 1, reference: str = "") -> Order:
    """A paid order whose payment went through `provider` (a Stripe one gets a PaymentIntent reference)."""
    order = order_create(
        event=event,
        lines=[LineRequest(ticket_type, quantity)],
        contact_name="Anna Müller",
        contact_email="anna@example.com",
    )
    if provider == "stripe" and not reference:
        reference = f"pi_{uuid.uuid4().hex[:14]}"
    order_start_payment(order=order, provider=provider, reference=reference, method="Card")
    order_mark_confirming_payment(order=order)
    return order_mark_paid(order=order)


def requested_refund(
    order: Order,
    *,
    amount: Decimal | None = None,
    tickets: list[Ticket] | None = None,
    notify_customer: bool = False,
    requested_by=None,
) -> Refund:
    """A refund in `requested` holding its amount in the order's refunding_total, its tickets invalid · refunded,
    with its timeline entries: the state order_refund leaves before refund_submit_later."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        amount = order.total if amount is None else amount
        refund = Refund.objects.create(
            organisation_id=order.organisation_id,
            order=order,
            payment=order.payments.get(status="confirmed"),
            amount=amount,
            reason="Customer can't come",
            idempotency_key=uuid.uuid4().hex,
            notify_customer=notify_customer,
            status_changed_at=timezone.now(),
            requested_by=requested_by,
        )
        order.refunding_total += amount
        order.save(update_fields=["refunding_total"])
        timeline_record(order=order, action="refund.requested", actor=requested_by, data={"amount": str(amount)})
        for ticket in tickets or []:
            Ticket.objects.filter(pk=ticket.pk).update(status="invalid", invalid_reason="refunded")
            refund.tickets.add(ticket)
            timeline_record(order=order, action="ticket.refunded", data={"ticket": ticket.public_id})
    return refund


def stripe_refund_json(refund: Refund, *, status: str = "pending", stripe_id: str = "re_test_1", **extra) -> dict:
    """A Stripe Refund object as Stripe's API (and its webhook events) would return it for `refund`."""
    return {
        "id": stripe_id,
        "object": "refund",
        "amount": 0,
        "status": status,
        "payment_intent": refund.payment.reference if refund.payment else "",
        "metadata": {"refund_id": str(refund.pk), "attempt_key": refund.attempt_key, "order": refund.order.code},
        **extra,
    }


def form(request) -> dict[str, str]:
    """A request Stripe's client sent, its form-encoded body as a flat dict ("metadata[refund_id]": "7")."""
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return {key: values[0] for key, values in parse_qs(body).items()}


def stripe_error(message: str, *, code: str = "amount_too_large") -> str:
    return json.dumps({"error": {"type": "invalid_request_error", "code": code, "message": message}})
