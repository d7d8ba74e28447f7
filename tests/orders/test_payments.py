"""The payment side (orders.payments): reservations that run out, payments confirmed, failed or abandoned."""

from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orders import payments, services, tasks
from orders.models import Order, Payment, TimelineEntry
from orders.payments import (
    order_expire,
    order_start_payment,
    payment_confirm,
    payments_expire_abandoned,
    reservations_expire,
)
from orders.services import LineRequest, order_create
from organiser_portal.celery import app as celery_app

from .refund_setup import TEST_STRIPE_KEY

pytestmark = pytest.mark.django_db
Status = Order.Status


@pytest.fixture
def reserve(event, ticket_type):
    """reserve(minutes_ago) → a reserved order created that long ago."""

    def make(minutes_ago: float = 0) -> Order:
        return order_create(
            event=event,
            lines=[LineRequest(ticket_type, 1)],
            contact_name="Ben Okafor",
            contact_email="ben@example.com",
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
        )

    return make


@pytest.fixture
def paying(reserve):
    """paying(provider, minutes_ago, reference) → an order processing its payment, started that long ago."""

    def make(provider: str = "sandbox", minutes_ago: float = 0, reference: str = "") -> Payment:
        order = reserve(minutes_ago)
        payment = order_start_payment(order=order, provider=provider, reference=reference)
        Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
        return Payment.objects.select_related("order").get(pk=payment.pk)

    return make


def last_entry(order: Order) -> TimelineEntry:
    return TimelineEntry.objects.filter(order=order).order_by("-created_at", "-id")[0]


# --- Reservations --------------------------------------------------------------------------------


def test_reservations_past_their_time_expire_and_others_stay(reserve, make_order):
    minutes = settings.ORDER_RESERVATION_MINUTES
    old, young = reserve(minutes + 1), reserve(minutes - 1)
    paid = make_order()
    Order.objects.filter(pk=paid.pk).update(created_at=timezone.now() - timedelta(days=1))

    assert reservations_expire() == 1

    old.refresh_from_db()
    assert old.status == Status.EXPIRED
    entry = last_entry(old)
    assert (entry.action, entry.actor_kind) == ("order.expired", "system")
    assert entry.data == {"reason": f"reservation ran out after {minutes} minutes without payment"}
    assert Order.objects.get(pk=young.pk).status == Status.RESERVED
    assert Order.objects.get(pk=paid.pk).status == Status.PAID
    assert reservations_expire() == 0  # run again: nothing twice
    assert TimelineEntry.objects.filter(order=old, action="order.expired").count() == 1


def test_an_order_whose_payment_started_meanwhile_is_not_expired_as_a_reservation(reserve):
    order = reserve(60)
    order_start_payment(order=order, provider="sandbox")  # after the timer read it as reserved

    result = order_expire(order=order, reason="reservation ran out", only_from=[Status.RESERVED])

    assert result.status == Status.PROCESSING_PAYMENT
    assert not TimelineEntry.objects.filter(order=order, action="order.expired").exists()


# --- Confirming a payment through its provider -------------------------------------------------------


def test_a_sandbox_payment_confirms_through_the_provider_with_explicit_actors(paying):
    payment = paying("sandbox")

    order = payment_confirm(payment=payment)

    assert order.status == Status.PAID
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CONFIRMED and payment.confirmed_at
    kinds = dict(TimelineEntry.objects.filter(order=order).values_list("action", "actor_kind"))
    assert kinds["order.processing_payment"] == "system"  # the checkout started it
    assert kinds["order.confirming_payment"] == kinds["order.paid"] == "provider"  # the provider said so
    assert order.tickets.count() == 1
    assert payment_confirm(payment=payment).status == Status.PAID  # again: nothing twice
    assert TimelineEntry.objects.filter(order=order, action="order.paid").count() == 1


def test_a_staff_member_recording_a_box_office_payment_is_the_actor(reserve, member):
    manager = member("manager")
    order = reserve()
    payment = order_start_payment(order=order, provider="manual", method="Cash", actor=manager, actor_kind="user")
    assert payment.method == "Cash"
    entry = last_entry(order)
    assert (entry.action, entry.actor, entry.actor_kind) == ("order.processing_payment", manager, "user")


def test_the_payment_services_are_still_importable_from_orders_services():
    assert services.order_mark_paid is payments.order_mark_paid
    assert services.order_start_payment is payments.order_start_payment
    assert services.order_expire is payments.order_expire


# --- Abandoned and failed payments -------------------------------------------------------------------


def test_a_payment_without_an_answer_is_abandoned_and_expires(paying):
    minutes = settings.PAYMENT_ABANDONED_MINUTES
    abandoned = paying("test", minutes + 5)  # a provider that can't be asked
    recent = paying("test", minutes - 5)

    assert payments_expire_abandoned() == 1

    abandoned.refresh_from_db()
    assert abandoned.status == Payment.Status.EXPIRED
    order = Order.objects.get(pk=abandoned.order_id)
    assert order.status == Status.EXPIRED
    entry = last_entry(order)
    assert (entry.action, entry.actor_kind) == ("order.expired", "system")
    assert entry.data["reason"] == f"payment abandoned: no confirmation within {minutes} minutes"
    assert Payment.objects.get(pk=recent.pk).status == Payment.Status.PENDING


def test_a_payment_confirmed_late_is_paid_not_expired(paying):
    payment = paying("sandbox", settings.PAYMENT_ABANDONED_MINUTES + 5)

    assert payments_expire_abandoned() == 0

    assert Order.objects.get(pk=payment.order_id).status == Status.PAID


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = TEST_STRIPE_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]


@responses.activate
def test_a_payment_stripe_cancelled_expires_with_the_reason_as_failed(stripe_on, paying):
    payment = paying("stripe", settings.PAYMENT_ABANDONED_MINUTES + 5, reference="pi_cancelled")
    responses.get(
        "https://api.stripe.com/v1/payment_intents/pi_cancelled",
        json={"id": "pi_cancelled", "object": "payment_intent", "status": "canceled"},
    )

    assert payments_expire_abandoned() == 1

    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    entry = last_entry(payment.order)
    assert (entry.action, entry.actor_kind) == ("order.expired", "provider")
    assert entry.data["reason"] == "payment failed: The payment was cancelled in Stripe"


@responses.activate
def test_a_payment_waits_while_stripe_cant_be_asked(stripe_on, paying):
    payment = paying("stripe", settings.PAYMENT_ABANDONED_MINUTES + 5, reference="pi_unknown")
    responses.get("https://api.stripe.com/v1/payment_intents/pi_unknown", body=ConnectionError("timed out"))

    assert payments_expire_abandoned() == 0

    assert Order.objects.get(pk=payment.order_id).status == Status.PROCESSING_PAYMENT


# --- Celery beat ---------------------------------------------------------------------------------------


def test_the_beat_tasks_run_the_timers(reserve, paying):
    reserve(settings.ORDER_RESERVATION_MINUTES + 1)
    paying("test", settings.PAYMENT_ABANDONED_MINUTES + 1)
    assert tasks.reservations_expire.apply().get() == 1
    assert tasks.payments_expire_abandoned.apply().get() == 1
    assert tasks.refunds_poll_stale.apply().get() == 0


def test_beat_runs_the_expiry_timers_and_the_refund_poller():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in (
        "orders.tasks.reservations_expire",
        "orders.tasks.payments_expire_abandoned",
        "orders.tasks.refunds_poll_stale",
    ):
        assert task in schedule
        assert task in celery_app.tasks


def test_the_expiry_timers_can_read_the_partial_index_not_the_million_paid_orders():
    cutoff = timezone.now()
    queries = [
        Order.objects.filter(status=Status.RESERVED, created_at__lt=cutoff),
        Order.objects.filter(status__in=[Status.PROCESSING_PAYMENT, Status.CONFIRMING_PAYMENT], created_at__lt=cutoff),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries:
            sql, params = query.values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "order_awaiting_payment" in plan, plan
