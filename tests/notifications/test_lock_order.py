"""One lock order everywhere: the order row, then the message row. A send claim (or a retry's release) racing a
delivery webhook for the same message waits for it instead of deadlocking.

The schedule is forced with a third connection, not a mock: it inserts (uncommitted) the delivery event the
webhook is about to store, so the webhook stops after locking the order and before moving the message; the claim
starts then. Locking the message first (the old claim), it would hold the message and wait for the order while
the webhook holds the order and waits for the message: PostgreSQL would kill one of them as a deadlock.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection, connections
from django.utils import timezone

from notifications.models import OutgoingMessage, Suppression
from notifications.services import (
    IncomingEvent,
    delivery_event_record,
    delivery_events_record,
    message_claim,
    message_release_for_retry,
)
from notifications.services.suppression import suppression_add, suppression_remove
from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory
from tickets.find_tickets import find_my_tickets_send

pytestmark = pytest.mark.django_db(transaction=True)

AT = datetime(2026, 7, 1, 10, 0, 5, tzinfo=UTC)


def run_in_thread(work, results: dict, name: str) -> threading.Thread:
    def target():
        try:
            results[name] = work()
        except Exception as error:  # the test asserts there is none
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def waiting_backends(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    assert row is not None
    return row[0]


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the schedule did not happen"
        time.sleep(0.02)


@pytest.mark.parametrize("step", ["claim", "release for retry"])
def test_a_send_step_and_a_webhook_racing_for_one_message_both_finish(make_order, step):
    order = make_order()
    message = order.messages.get()
    if step == "release for retry":
        assert message_claim(message_id=message.pk) is not None
    event = IncomingEvent(
        "Postmark", "delivered", AT, message.recipient, "", "delivery-1", portal_message_id=str(message.pk)
    )
    params = connection.get_connection_params()
    dsn = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if k in ("dbname", "host", "port", "user")})

    with psycopg.connect(dsn) as blocker:
        # The event the webhook will store, inserted first and not committed: the webhook waits on it.
        blocker.execute(
            "INSERT INTO notifications_deliveryevent (event_type, occurred_at, reason, provider, dedup_key, raw,"
            " received_at) VALUES ('delivered', now(), '', 'Postmark', %s, '{}', now())",
            [event.dedup_key()],
        )
        results: dict = {}
        webhook = run_in_thread(lambda: delivery_event_record(event=event), results, "webhook")
        wait_until(lambda: waiting_backends(dsn) == 1)  # the webhook holds the order, waits for the event row
        if step == "claim":
            send_step = run_in_thread(lambda: message_claim(message_id=message.pk), results, step)
        else:
            send_step = run_in_thread(
                lambda: message_release_for_retry(message_id=message.pk, reason="503"), results, step
            )
        wait_until(lambda: waiting_backends(dsn) == 2)  # the send step waits too
        blocker.rollback()
    webhook.join(20)
    send_step.join(20)

    assert not isinstance(results["webhook"], Exception), results["webhook"]
    assert not isinstance(results[step], Exception), results[step]
    assert isinstance(results["webhook"], int)  # the event was stored
    assert results[step] is None  # the webhook came first: nothing left to claim or release
    message.refresh_from_db()
    assert message.status == OutgoingMessage.Status.DELIVERED
    assert Order.objects.get(pk=order.pk).email_status == "delivered"


def test_taking_an_address_off_the_list_while_its_bounce_is_recorded_both_finish(make_order, member):
    """The removal locks the order before the suppression row, as the webhook does: the webhook holds the order and
    adds the address again (waiting on the row the removal changes); a removal holding that row and then waiting
    for the order (its timeline entry) would close the circle, and PostgreSQL would kill one of them."""
    order = make_order()
    message = order.messages.get()
    suppression_add(
        organisation_id=order.organisation_id, address=message.recipient, reason="bounced", message_id=message.pk
    )
    listed = Suppression.objects.get()
    agent = member(Membership.Role.SUPPORT)
    event = IncomingEvent(
        "Postmark", "bounced", AT, message.recipient, "550 5.1.1 unknown", "bounce-2", portal_message_id=str(message.pk)
    )
    params = connection.get_connection_params()
    dsn = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if k in ("dbname", "host", "port", "user")})

    with psycopg.connect(dsn) as blocker:
        blocker.execute(
            "INSERT INTO notifications_deliveryevent (event_type, occurred_at, reason, provider, dedup_key, raw,"
            " received_at) VALUES ('bounced', now(), '', 'Postmark', %s, '{}', now())",
            [event.dedup_key()],
        )
        results: dict = {}
        webhook = run_in_thread(lambda: delivery_event_record(event=event), results, "webhook")
        wait_until(lambda: waiting_backends(dsn) == 1)  # the webhook holds the order, waits for the event row
        remove = run_in_thread(
            lambda: suppression_remove(
                actor=agent, organisation=order.organisation, suppression_id=listed.pk, reason="Guest fixed it"
            ),
            results,
            "remove",
        )
        wait_until(lambda: waiting_backends(dsn) == 2)  # the removal waits for the order too
        blocker.rollback()
    webhook.join(20)
    remove.join(20)

    assert not isinstance(results["webhook"], Exception), results["webhook"]
    assert not isinstance(results["remove"], Exception), results["remove"]
    listed.refresh_from_db()
    assert listed.removed_at is not None
    # The bounce came first: the address was listed already, so the removal is what stands.
    assert not Suppression.objects.filter(removed_at=None).exists()


def test_find_my_tickets_and_a_webhook_batch_for_the_same_orders_both_finish(make_order, organisation):
    """ "Find my tickets" writes a timeline entry on each of the address's orders (soonest event first) while a
    webhook batch locks the same orders by id. The request takes its orders' locks by id up front: holding the
    soonest event's order (a higher id) and then waiting for the other's, it would close a circle with the batch
    holding the lower id and waiting for the higher."""
    later = EventFactory(organisation=organisation, starts_at=timezone.now() + timedelta(days=60))
    sooner = EventFactory(organisation=organisation, starts_at=timezone.now() + timedelta(days=10))
    low = make_order(event=later, ticket_type=TicketTypeFactory(event=later), contact_email="anna@example.com")
    high = make_order(event=sooner, ticket_type=TicketTypeFactory(event=sooner), contact_email="anna@example.com")
    assert low.pk < high.pk
    events = [
        IncomingEvent("Postmark", "delivered", AT, "anna@example.com", "", f"d-{o.pk}", portal_message_id=str(m.pk))
        for o in (low, high)
        for m in [o.messages.get()]
    ]
    params = connection.get_connection_params()
    dsn = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if k in ("dbname", "host", "port", "user")})

    with psycopg.connect(dsn) as blocker:
        # No timeline entry can be written: the request stops after taking its lock(s), before its first entry.
        blocker.execute(f"LOCK TABLE {TimelineEntry._meta.db_table} IN SHARE MODE")
        results: dict = {}
        request = run_in_thread(
            lambda: find_my_tickets_send(
                organisation_id=organisation.pk, email="anna@example.com", request_key="find-tickets:1"
            ),
            results,
            "request",
        )
        wait_until(lambda: waiting_backends(dsn) == 1)
        webhook = run_in_thread(lambda: delivery_events_record(events=events), results, "webhook")
        wait_until(lambda: waiting_backends(dsn) == 2)  # the batch waits for an order the request holds
        blocker.rollback()
    request.join(20)
    webhook.join(20)

    assert not isinstance(results["request"], Exception), results["request"]
    assert not isinstance(results["webhook"], Exception), results["webhook"]
    assert TimelineEntry.objects.filter(action="tickets_page.links_requested").count() == 2
    assert OutgoingMessage.objects.filter(kind=OutgoingMessage.Kind.TICKETS_LINKS).count() == 1
