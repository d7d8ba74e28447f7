"""The money invariants of refunds on PostgreSQL, with real connections racing: refunded never exceeds paid,
an attempt reaches the provider once, a provider error leaves the order consistent and retryable, and a refunded
or cancelled ticket no longer opens the door. Only Stripe's HTTP answers are mocked (responses)."""

import json
from decimal import Decimal

import pytest
import responses
from django.db import IntegrityError, transaction
from django.test import Client

from orders.errors import OrderActionError
from orders.models import Order, Refund
from orders.refunds import refund_move, refund_poll, refund_submit
from tests.race import order_locked, race
from tickets import selectors as ticket_selectors
from tickets.models import Ticket
from tickets.services import scanner_device_create

from .refund_setup import (
    STRIPE_REFUNDS,
    TEST_STRIPE_KEY,
    form,
    paid_order,
    requested_refund,
    stripe_error,
    stripe_refund_json,
)

pytestmark = pytest.mark.django_db(transaction=True)
Status = Refund.Status


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = TEST_STRIPE_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]


def move(refund: Refund, status: str, **kwargs) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_related("payment").get(pk=refund.pk)
        refund.order = Order.objects.select_for_update().get(pk=refund.order_id)
        return refund_move(refund, status, **kwargs)


# --- The database refuses more money back than was paid ------------------------------------------------


def test_the_database_refuses_refunded_plus_refunding_above_the_total(make_order):
    order = make_order(quantity=2)  # 105.00
    rows = Order.objects.filter(pk=order.pk)
    rows.update(refunded_total=Decimal("100.00"), refunding_total=Decimal("5.00"))  # exactly the total: fine
    with pytest.raises(IntegrityError, match="order_refunds_within_total"), transaction.atomic():
        rows.update(refunding_total=Decimal("5.01"))
    with pytest.raises(IntegrityError, match="order_refund"), transaction.atomic():
        rows.update(refunded_total=Decimal("105.01"), refunding_total=0)
    with pytest.raises(IntegrityError, match="order_refunds_within_total"), transaction.atomic():
        rows.update(refunding_total=Decimal("-1.00"))


def test_two_retries_racing_for_the_last_money_hold_it_once(event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, quantity=2)  # 105.00
    first = move(requested_refund(order, amount=Decimal("60.00")), Status.FAILED, error="Card expired")
    second = move(requested_refund(order, amount=Decimal("60.00")), Status.FAILED, error="Card expired")

    outcomes = race(
        hold=order_locked(order.pk),
        calls=[lambda: move(first, Status.REQUESTED), lambda: move(second, Status.REQUESTED)],
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "OrderActionError"]
    refused = next(o for o in outcomes if o is not None)
    assert isinstance(refused, OrderActionError) and str(refused) == "Only €45.00 can still be refunded."
    order.refresh_from_db()
    assert order.refunding_total == Decimal("60.00")
    assert sorted(Refund.objects.filter(order=order).values_list("status", flat=True)) == ["failed", "requested"]


# --- An attempt reaches the provider once ---------------------------------------------------------------


@responses.activate
def test_simultaneous_submissions_of_one_refund_reach_stripe_exactly_once(stripe_on, event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe")
    refund = requested_refund(order)
    responses.post(STRIPE_REFUNDS, json=stripe_refund_json(refund, status="pending", stripe_id="re_once"))

    outcomes = race(hold=order_locked(order.pk), calls=[lambda: refund_submit(refund.pk)] * 3)

    assert outcomes == [None, None, None]
    assert len(responses.calls) == 1
    refund.refresh_from_db()
    assert (refund.status, refund.provider_reference) == (Status.CONFIRMING, "re_once")
    assert order.timeline.filter(action="refund.processing").count() == 1


@responses.activate
def test_the_same_attempt_key_never_reaches_stripe_twice(stripe_on, event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe")
    refund = requested_refund(order)
    responses.post(STRIPE_REFUNDS, body=ConnectionError("read timed out"))  # the answer is lost
    responses.get(STRIPE_REFUNDS, json={"object": "list", "data": [], "has_more": False})

    refund_submit(refund.pk)
    refund_submit(refund.pk)  # the task delivered again
    refund_poll(refund.pk)  # Stripe has no such refund: no money moved, the attempt failed

    refund.refresh_from_db()
    assert refund.status == Status.FAILED
    move(refund, Status.REQUESTED)  # retry
    responses.replace(responses.POST, STRIPE_REFUNDS, json=stripe_refund_json(refund, status="succeeded"))
    refund_submit(refund.pk)
    refund_submit(refund.pk)

    sent = [c.request.headers["Idempotency-Key"] for c in responses.calls if c.request.method == "POST"]
    assert sent == [f"{refund.idempotency_key}:1", f"{refund.idempotency_key}:2"]
    assert Refund.objects.get(pk=refund.pk).status == Status.SUCCEEDED


# --- A provider error leaves the order consistent and retryable ----------------------------------------


@responses.activate
def test_a_provider_error_leaves_the_order_consistent_and_retryable(stripe_on, event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe", quantity=2)
    ticket = order.tickets.first()
    refund = requested_refund(order, amount=Decimal("52.50"), tickets=[ticket])
    message = "This PaymentIntent's charge has been disputed"
    responses.post(STRIPE_REFUNDS, body=stripe_error(message, code="charge_disputed"), status=400)

    refund_submit(refund.pk)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.status, refund.error) == (Status.FAILED, f"Stripe refused the refund: {message}")
    assert (order.status, order.refunding_total, order.refunded_total) == ("paid", 0, 0)
    assert order.timeline.get(action="refund.failed").data["error"] == refund.error

    move(refund, Status.REQUESTED)
    responses.replace(responses.POST, STRIPE_REFUNDS, json=stripe_refund_json(refund, status="pending"))
    refund_submit(refund.pk)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.status, refund.attempt, refund.error) == (Status.CONFIRMING, 2, "")
    assert (order.refunding_total, order.refunded_total) == (Decimal("52.50"), 0)
    last = responses.calls[-1].request
    assert last.headers["Idempotency-Key"] == f"{refund.idempotency_key}:2"
    assert form(last)["amount"] == "5250"


# --- A refunded or cancelled ticket no longer opens the door ---------------------------------------------


def scan(token: str, code: str) -> dict:
    response = Client().post(
        "/api/v1/check-ins/",
        json.dumps({"code": code}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    return response.json()


def test_refunded_and_cancelled_tickets_are_denied_by_the_scanner_api(organisation, event, ticket_type):
    ticket_selectors._devices.clear()
    _, token = scanner_device_create(organisation=organisation, name="Gate A", event=event)
    order = paid_order(event=event, ticket_type=ticket_type, provider="manual", quantity=3)
    refunded, cancelled, kept = order.tickets.order_by("pk")
    refund = requested_refund(order, amount=Decimal("52.50"), tickets=[refunded])
    refund_submit(refund.pk)
    assert Refund.objects.get(pk=refund.pk).status == Status.SUCCEEDED
    Ticket.objects.filter(pk=cancelled.pk).update(status="invalid", invalid_reason="cancelled")

    assert (scan(token, refunded.secret)["result"], scan(token, refunded.secret)["message"]) == (
        "denied",
        "Ticket invalid · refunded.",
    )
    answer = scan(token, cancelled.public_id)
    assert (answer["result"], answer["reason"], answer["message"]) == (
        "denied",
        "invalid",
        "Ticket invalid · cancelled.",
    )
    assert scan(token, kept.secret)["result"] == "admitted"
