"""The refund lifecycle (orders.refunds): submit, the provider's answers, the money, retries, the poller."""

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import OutgoingMessage
from orders.errors import OrderActionError
from orders.models import Order, Refund, TimelineEntry
from orders.payment_providers import SANDBOX_FAILURE
from orders.refunds import refund_move, refund_poll, refund_submit, refund_submit_later, refunds_poll_stale
from organiser_portal.celery import app as celery_app

from .refund_setup import STRIPE_REFUNDS, TEST_STRIPE_KEY, paid_order, requested_refund, stripe_refund_json

Status = Refund.Status


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.05)


def actions(order: Order) -> list[str]:
    return list(TimelineEntry.objects.filter(order=order).order_by("created_at", "id").values_list("action", flat=True))


def move(refund: Refund, status: str, **kwargs) -> Refund:
    """refund_move as its callers call it: in a transaction, the order row locked and fresh."""
    with transaction.atomic():
        refund.order = Order.objects.select_for_update().get(pk=refund.order_id)
        return refund_move(refund, status, **kwargs)


def refund_status(refund: Refund) -> str:
    return Refund.objects.values_list("status", flat=True).get(pk=refund.pk)


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = TEST_STRIPE_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]


@pytest.fixture
def worker():
    """A real Celery worker on the Redis in REDIS_URL, running the tasks the refunds queue."""
    assert not celery_app.conf.task_always_eager, "these tests need REDIS_URL: a real broker and worker"
    celery_app.control.purge()  # tasks other tests published without a worker
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


# --- Records-only providers: manual and PayPal ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["manual", "paypal"])
def test_a_recorded_refund_succeeds_at_once_by_the_staff_member(event, ticket_type, member, provider):
    manager = member("manager")
    order = paid_order(event=event, ticket_type=ticket_type, provider=provider, quantity=2)
    refund = requested_refund(order, notify_customer=True, requested_by=manager)

    refund_submit(refund.pk)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Status.SUCCEEDED and refund.completed_at and refund.status_changed_at
    assert (order.refunding_total, order.refunded_total, order.status) == (0, order.total, Order.Status.REFUNDED)
    succeeded = TimelineEntry.objects.get(order=order, action="refund.succeeded")
    assert (succeeded.actor, succeeded.actor_kind) == (manager, "user")
    assert succeeded.data["amount"] == "€105.00"
    assert actions(order)[-3:] == ["refund.succeeded", "order.refunded", "email.queued"]
    assert order.messages.filter(kind=OutgoingMessage.Kind.REFUND_NOTICE, recipient="anna@example.com").count() == 1


@pytest.mark.django_db
def test_a_partial_refund_keeps_the_order_paid_and_partially_refunded(event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="manual", quantity=2)
    refund = requested_refund(order, amount=Decimal("52.50"))

    refund_submit(refund.pk)

    order.refresh_from_db()
    assert (order.status, order.refunded_total, order.refunding_total) == ("paid", Decimal("52.50"), 0)
    assert order.status_label == "Paid · partially refunded"
    assert not order.messages.filter(kind=OutgoingMessage.Kind.REFUND_NOTICE).exists()  # the agent unticked it


@pytest.mark.django_db
def test_a_repeated_submit_does_nothing_twice(event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="manual")
    refund = requested_refund(order, notify_customer=True)
    refund_submit(refund.pk)
    before = actions(order)

    refund_submit(refund.pk)
    refund_submit(refund.pk + 1000)  # gone: nothing

    order.refresh_from_db()
    assert actions(order) == before
    assert order.refunded_total == order.total
    assert order.messages.filter(kind=OutgoingMessage.Kind.REFUND_NOTICE).count() == 1


@pytest.mark.django_db
def test_a_payment_whose_provider_is_not_enabled_fails_the_refund_with_the_reason(make_order):
    order = make_order()  # paid through the "test" provider, which no settings enable
    refund = requested_refund(order)

    refund_submit(refund.pk)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Status.FAILED
    assert refund.error == "Payment provider 'test' is not enabled (enabled: manual, sandbox, paypal)."
    assert order.refunding_total == 0 and order.refunded_total == 0


# --- refund_move: the transition table and the money ----------------------------------------


@pytest.mark.django_db
def test_refund_move_refuses_what_the_transition_table_refuses(event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type)
    refund = move(requested_refund(order), Status.SUCCEEDED)
    for status in (Status.PROCESSING, Status.FAILED, Status.REQUESTED, Status.CONFIRMING):
        with pytest.raises(OrderActionError, match="A refund that is refunded can't become"):
            move(refund, status)
    order.refresh_from_db()
    assert (order.refunded_total, order.refunding_total) == (order.total, 0)


@pytest.mark.django_db
def test_a_retry_holds_the_money_again_and_is_a_new_attempt(event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, quantity=2)
    refund = move(requested_refund(order, amount=Decimal("60.00")), Status.FAILED, error="Card expired")
    assert (refund.order.refunding_total, refund.error) == (0, "Card expired")
    first_key = refund.attempt_key

    move(refund, Status.REQUESTED, actor_kind="user")

    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.status, refund.attempt, refund.error, refund.completed_at) == (Status.REQUESTED, 2, "", None)
    assert refund.attempt_key != first_key and refund.attempt_key.endswith(":2")
    assert order.refunding_total == Decimal("60.00")


@pytest.mark.django_db
def test_a_retry_is_refused_when_the_money_was_refunded_otherwise_meanwhile(event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, quantity=2)  # 105.00
    failed = move(requested_refund(order, amount=Decimal("60.00")), Status.FAILED, error="Card expired")
    requested_refund(order, amount=Decimal("50.00"))  # another refund holds 50.00 of the 105.00

    with pytest.raises(OrderActionError, match="Only €55.00 can still be refunded"):
        move(failed, Status.REQUESTED)
    assert Refund.objects.get(pk=failed.pk).status == Status.FAILED


# --- The sandbox, through the real task path ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_sandbox_refund_walks_every_state_through_queued_tasks(event, ticket_type, worker):
    assert settings.SANDBOX_REFUND_STEP_SECONDS == 0
    order = paid_order(event=event, ticket_type=ticket_type, quantity=3)
    refund = requested_refund(order, amount=order.total)

    refund_submit_later(refund.pk)

    wait_for(lambda: refund_status(refund) == Status.SUCCEEDED)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert [a for a in actions(order) if a.startswith(("refund.", "order.refunded"))] == [
        "refund.requested",
        "refund.processing",
        "refund.confirming",
        "refund.succeeded",
        "order.refunded",
    ]
    kinds = dict(TimelineEntry.objects.filter(order=order).values_list("action", "actor_kind"))
    assert kinds["refund.processing"] == "system" and kinds["refund.confirming"] == "provider"
    refund.refresh_from_db()
    assert refund.provider_reference == f"sandbox_{refund.attempt_key}"


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_fails_13_13_with_its_reason_and_the_retry_succeeds(event, ticket_type, worker):
    order = paid_order(event=event, ticket_type=ticket_type)
    refund = requested_refund(order, amount=Decimal("13.13"))

    refund_submit_later(refund.pk)

    wait_for(lambda: refund_status(refund) == Status.FAILED)
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.error == SANDBOX_FAILURE
    assert (order.refunding_total, order.refunded_total, order.status) == (0, 0, "paid")
    failed = TimelineEntry.objects.get(order=order, action="refund.failed")
    assert failed.data["error"] == SANDBOX_FAILURE and failed.actor_kind == "provider"

    move(Refund.objects.get(pk=refund.pk), Status.REQUESTED)  # what order_refund_retry does, then after commit:
    refund_submit_later(refund.pk)

    wait_for(lambda: refund_status(refund) == Status.SUCCEEDED)
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.attempt == 2 and refund.error == ""
    assert (order.refunding_total, order.refunded_total) == (0, Decimal("13.13"))


@pytest.mark.django_db(transaction=True)
def test_with_tasks_in_process_the_sandbox_steps_come_from_timer_threads(event, ticket_type, settings):
    """The embedded default (no REDIS_URL): the submit runs at once, each later step after its delay."""
    settings.SANDBOX_REFUND_STEP_SECONDS = 0.2
    order = paid_order(event=event, ticket_type=ticket_type)
    refund = requested_refund(order, amount=Decimal("10.00"))
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        refund_submit_later(refund.pk)
        assert refund_status(refund) == Status.PROCESSING  # not yet confirming: that step waits its delay
        wait_for(lambda: refund_status(refund) == Status.SUCCEEDED, timeout=10)
    finally:
        celery_app.conf.task_always_eager = eager
    assert Order.objects.get(pk=order.pk).refunded_total == Decimal("10.00")


# --- Stripe: network errors and the poller --------------------------------------------------------


@pytest.mark.django_db
@responses.activate
def test_a_network_error_leaves_the_refund_processing_and_the_poller_finds_it(stripe_on, event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe")
    refund = requested_refund(order)
    responses.post(STRIPE_REFUNDS, body=ConnectionError("timed out"))

    refund_submit(refund.pk)

    refund.refresh_from_db()
    assert (refund.status, refund.error, refund.provider_reference) == (Status.PROCESSING, "", "")
    assert Order.objects.get(pk=order.pk).refunding_total == order.total  # still on its way

    # The request did reach Stripe: the poller finds the refund by the attempt key it was sent with.
    found = stripe_refund_json(refund, status="succeeded", stripe_id="re_found")
    responses.get(STRIPE_REFUNDS, json={"object": "list", "data": [found], "has_more": False})
    refund_poll(refund.pk)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.status, refund.provider_reference) == (Status.SUCCEEDED, "re_found")
    assert (order.refunded_total, order.refunding_total, order.status) == (order.total, 0, "refunded")
    assert len(responses.calls) == 2  # one POST, one list: the refund was never sent again


@pytest.mark.django_db
def test_the_poller_hands_over_refunds_without_news(event, ticket_type, monkeypatch):
    order = paid_order(event=event, ticket_type=ticket_type, quantity=3)
    old, fresh, done = (requested_refund(order, amount=Decimal("10.00")) for _ in range(3))
    long_ago = timezone.now() - timedelta(minutes=settings.REFUND_POLL_AFTER_MINUTES + 1)
    Refund.objects.filter(pk=old.pk).update(status_changed_at=long_ago)
    Refund.objects.filter(pk=done.pk).update(status=Status.SUCCEEDED, status_changed_at=long_ago)
    queued: list[tuple[str, int]] = []
    monkeypatch.setattr("orders.refunds._queue", lambda name, refund_id, countdown=0: queued.append((name, refund_id)))

    assert refunds_poll_stale() == 1
    assert queued == [("orders.tasks.refund_submit", old.pk)]
    assert fresh.pk not in [q[1] for q in queued]
