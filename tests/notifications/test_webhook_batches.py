"""A webhook batch (SendGrid posts a list of events) is recorded together, in the lock order: each event once, each
message as if the events had come one at a time, the orders locked by one statement (docs/reliability.md, guarantee
8; the storm under concurrency is tests/notifications/test_webhook_storm.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import DeliveryEvent, OutgoingMessage, Suppression
from orders.models import TimelineEntry

from . import payloads
from .test_webhooks import auth, meta, post

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status


def _event(kind: str, message: OutgoingMessage, **fields) -> dict:
    (event,) = payloads.sendgrid_event(kind, message.provider_message_id, meta(message), message.recipient)
    return {**event, **fields}


def test_a_batch_out_of_order_with_copies_ends_as_one_at_a_time_would(client, sent):
    first, second = sent("first-message-id"), sent("second-message-id")
    delivered, deferred = _event("delivered", first), _event("deferred", first, response="451 4.7.1 Try again later")
    bounce = _event("bounce", second)
    unknown = {**_event("delivered", second), "anymail_id": "nobody", "portal_message_id": "999999999"}
    # The later message first, a delivery before its deferral, a copy of the bounce, an event for no message.
    batch = [bounce, delivered, unknown, deferred, bounce, _event("open", first)]

    with CaptureQueriesContext(connection) as queries:
        response = post(client, "sendgrid", batch, **auth())

    assert response.status_code == 200, response.content[:300]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.opened_at is not None) == (Status.DELIVERED, True)
    assert second.status == Status.BOUNCED
    assert DeliveryEvent.objects.count() == 5  # the copy of the bounce is not stored
    assert DeliveryEvent.objects.filter(message=None).count() == 1
    assert list(Suppression.objects.values_list("address", "reason")) == [(second.recipient, "bounced")]
    moves = TimelineEntry.objects.filter(action__in=["email.delivered", "email.deferred", "email.bounced"])
    assert sorted(moves.values_list("action", flat=True)) == ["email.bounced", "email.delivered"]
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    # One transaction (a savepoint inside the test's own).
    transactions = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    # One statement locks both orders; only the event for no message is looked up on its own (by our id and by
    # the service's, each among orders' then account emails).
    assert len(locks) == 1 + 4 and len(transactions) == 1

    entries = TimelineEntry.objects.count()
    again = post(client, "sendgrid", batch, **auth())

    assert again.status_code == 200
    assert DeliveryEvent.objects.count() == 5
    assert TimelineEntry.objects.count() == entries
    assert Suppression.objects.count() == 1
