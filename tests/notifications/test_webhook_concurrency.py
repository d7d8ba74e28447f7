"""Webhook events arriving at the same time (one gunicorn worker runs several threads): each is kept once and ends right.

The order row is held locked by the test while the posts start, so every thread is inside
delivery_event_record, waiting, before the first one can write: a real race, not a sequence.
"""

import base64
import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from notifications.models import DeliveryEvent, OutgoingMessage
from notifications.tasks import send_message
from orders.models import Order, TimelineEntry

from . import payloads

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "hook-user:hook-password"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def message(make_order, test_backend) -> OutgoingMessage:
    order = make_order()  # committed: tasks queued after commit go to a broker nobody listens to here
    message = order.messages.get()
    send_message.apply(args=(message.pk,))
    message.refresh_from_db()
    assert message.status == "sent"
    return message


def _post_all_while_order_locked(order_id: int, bodies: list[dict]) -> list[int]:
    """Post every body from its own thread at once; the threads queue on the order lock the test holds."""
    statuses: list[int] = []
    url = reverse("anymail:postmark_tracking_webhook")

    def post(body: dict) -> None:
        try:
            response = Client().post(url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=AUTH)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_id)
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # every thread has reached the lock
        assert all(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(timeout=20)
    return statuses


def _email_actions(message: OutgoingMessage) -> list[str]:
    assert message.order_id is not None  # ticket emails are about an order
    return list(
        TimelineEntry.objects.filter(order_id=message.order_id, action__startswith="email.")
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


def test_the_same_event_posted_by_several_threads_at_once_is_stored_once(message):
    body = payloads.postmark_delivery(
        message.provider_message_id, {"portal_message_id": str(message.pk)}, message.recipient
    )
    statuses = _post_all_while_order_locked(message.order_id, [body] * 4)
    assert statuses == [200] * 4
    assert DeliveryEvent.objects.filter(message=message).count() == 1
    assert _email_actions(message) == ["email.queued", "email.sent", "email.delivered"]
    message.refresh_from_db()
    assert message.status == "delivered"
    assert Order.objects.get(pk=message.order_id).email_status == "delivered"


def test_a_bounce_and_a_delivery_racing_end_bounced_whichever_wins(message):
    meta = {"portal_message_id": str(message.pk)}
    bounce = payloads.postmark_bounce(message.provider_message_id, meta, message.recipient)
    delivery = payloads.postmark_delivery(message.provider_message_id, meta, message.recipient)
    opened = payloads.postmark_open(message.provider_message_id, meta, message.recipient)
    statuses = _post_all_while_order_locked(message.order_id, [delivery, bounce, opened, bounce, delivery])
    assert statuses == [200] * 5
    message.refresh_from_db()
    assert message.status == "bounced" and message.opened_at is not None
    assert Order.objects.get(pk=message.order_id).email_status == "bounced"
    assert DeliveryEvent.objects.filter(message=message).count() == 3
    # Each status change once; whether "delivered" came in before the bounce depends on who won.
    actions = _email_actions(message)
    assert actions[:2] == ["email.queued", "email.sent"] and actions[-1] == "email.bounced"
    assert actions.count("email.bounced") == 1 and actions.count("email.delivered") <= 1


def test_a_new_event_costs_few_statements_and_a_duplicate_fewer(client, message, django_assert_max_num_queries):
    body = json.dumps(
        payloads.postmark_delivery(
            message.provider_message_id, {"portal_message_id": str(message.pk)}, message.recipient
        )
    )
    url = reverse("anymail:postmark_tracking_webhook")
    # BEGIN, find + lock, insert, move + sync the order, timeline entry, COMMIT
    with django_assert_max_num_queries(6):
        assert client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=AUTH).status_code == 200
    # BEGIN, find + lock, insert (nothing), COMMIT
    with django_assert_max_num_queries(4):
        assert client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=AUTH).status_code == 200
    assert DeliveryEvent.objects.filter(message=message).count() == 1
