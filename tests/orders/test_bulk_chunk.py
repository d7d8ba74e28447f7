"""A bulk send's chunk (orders/bulk_chunk.py) against the single services it stands for: the same message, timeline
entry and order email status per order, the same reasons for skipping, exactly once across a killed worker, a
constant number of queries per chunk, and its pacing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import OutgoingMessage, Suppression
from notifications.services import DISPATCH_MANY_TASK, messages_dispatch_many
from notifications.services.outbox import WAITING_FOR_QUEUE
from orders import bulk_chunk
from orders.bulk import bulk_send_run, bulk_send_start
from orders.errors import OrderActionError
from orders.models import BulkSend, Order
from orders.services import order_resend_tickets, order_send_held_tickets
from orders.timeline import describe
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def agent(member):
    return member(Role.SUPPORT)


@pytest.fixture
def handed(monkeypatch) -> dict[int, float]:
    """Each message handed to the broker after commit: message id → countdown (s). The chunk's hand-over task
    runs in process (eager), the send tasks are only recorded."""
    calls: dict[int, float] = {}
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)

    def dispatch(*, message_id: int, countdown: float = 0.0) -> bool:
        assert message_id not in calls, "handed over twice"
        calls[message_id] = countdown
        return True

    monkeypatch.setattr("notifications.services.outbox.message_dispatch", dispatch)
    return calls


def start(agent, event, action, orders, key="k1") -> BulkSend:
    ids = [o.pk for o in orders]
    return bulk_send_start(actor=agent, event=event, action=action, order_ids=ids, idempotency_key=key)


def run(bulk: BulkSend, capture, chunk: int = 100) -> BulkSend:
    with capture(execute=True):
        return bulk_send_run(bulk_send_id=bulk.pk, chunk=chunk)


def test_a_bulk_resend_gives_each_order_what_the_single_resend_gives(
    agent, make_order, event, handed, django_capture_on_commit_callbacks
):
    event.attach_pdf_tickets = False
    event.save(update_fields=["attach_pdf_tickets"])
    single, in_bulk = make_order(contact_email="one@example.com"), make_order(contact_email="Two@Example.com")
    OutgoingMessage.objects.filter(order__in=[single, in_bulk]).update(status="delivered")
    Order.objects.filter(pk__in=[single.pk, in_bulk.pk]).update(email_status="delivered")
    with django_capture_on_commit_callbacks(execute=True):
        alone = order_resend_tickets(actor=agent, order=single, idempotency_key="form-1")
    bulk = start(agent, event, "resend", [in_bulk])
    assert run(bulk, django_capture_on_commit_callbacks).done == 1
    sent = OutgoingMessage.objects.get(order=in_bulk, idempotency_key=bulk.message_key)
    fields = ("kind", "channel", "status", "created_by_id", "pdf_attached", "attempts", "organisation_id")
    assert [getattr(sent, f) for f in fields] == [getattr(alone, f) for f in fields]
    assert (sent.kind, sent.pdf_attached, sent.recipient) == ("tickets_resend", False, "Two@Example.com")
    assert set(handed) == {alone.pk, sent.pk}
    for order in (single, in_bulk):
        order.refresh_from_db()
        assert order.email_status == "queued"  # the order's latest ticket email, as after the single resend
    one = single.timeline.get(action="tickets.resent_without_pdf")
    many = in_bulk.timeline.get(action="tickets.resent_in_bulk")
    assert (many.actor, many.actor_kind) == (one.actor, one.actor_kind) == (agent, "user")
    assert many.data == {"recipient": "Two@Example.com", "other_address": False, "bulk": bulk.pk}
    assert describe(many.action, many.data) == f"Tickets resent to Two@Example.com in bulk send {bulk.pk}"
    assert in_bulk.timeline.count() == single.timeline.count()  # no other entry on either


def test_a_bulk_release_gives_each_order_what_the_single_release_gives(
    agent, make_order, organisation, handed, django_capture_on_commit_callbacks
):
    gala = EventFactory(organisation=organisation, send_tickets_automatically=False)
    ticket_type = TicketTypeFactory(event=gala)
    single, in_bulk = (make_order(event=gala, ticket_type=ticket_type) for _ in range(2))
    assert single.tickets_held and in_bulk.tickets_held and single.email_status == "not_sent"
    order_send_held_tickets(actor=agent, order=single, idempotency_key="form-1")
    bulk = start(agent, gala, "send_held", [in_bulk])
    run(bulk, django_capture_on_commit_callbacks)
    alone, sent = single.messages.get(), in_bulk.messages.get()
    fields = ("kind", "recipient", "status", "created_by_id", "pdf_attached", "channel")
    assert [getattr(sent, f) for f in fields] == [getattr(alone, f) for f in fields]
    for order in (single, in_bulk):
        order.refresh_from_db()
        assert (order.tickets_held, order.email_status) == (False, "queued")
    entry = in_bulk.timeline.get(action="order.held_tickets_sent_in_bulk")
    assert entry.actor == agent and entry.data == {"recipient": in_bulk.contact_email, "bulk": bulk.pk}


def _single_refusal(call) -> str:
    with pytest.raises(OrderActionError) as refused:
        call()
    return str(refused.value)


def test_the_chunk_skips_in_the_single_resends_words(agent, make_order, event, django_capture_on_commit_callbacks):
    ok, cancelled, held, no_ticket, complained, bounced, spam_listed = (
        make_order(contact_email=f"g{i}@example.com") for i in range(7)
    )
    bulk = start(agent, event, "resend", [ok, cancelled, held, no_ticket, complained, bounced, spam_listed])
    # All changed after the confirmation: the chunk checks each order again.
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    Order.objects.filter(pk=held.pk).update(tickets_held=True)
    no_ticket.tickets.update(status="invalid", invalid_reason="cancelled")
    complained.messages.update(status="complained")
    Suppression.objects.create(organisation=event.organisation, address="G5@example.com", reason="bounced")
    Suppression.objects.create(organisation=event.organisation, address="g6@example.com", reason="complained")
    done = run(bulk, django_capture_on_commit_callbacks)
    assert (done.done, done.skipped, done.position, done.status) == (1, 6, 7, "done")
    got = {s["code"]: s["reason"] for s in done.skipped_orders}
    for order in (cancelled, held, no_ticket, complained, bounced, spam_listed):
        fresh = Order.objects.get(pk=order.pk)
        assert got[order.code] == _single_refusal(lambda o=fresh: order_resend_tickets(actor=agent, order=o))
    assert got[cancelled.code] == "Order is cancelled" and "hard-bounced" in got[bounced.code]
    assert list(OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).values_list("order", flat=True)) == [
        ok.pk
    ]


def test_the_chunk_skips_a_release_in_the_single_releases_words(
    agent, make_order, organisation, django_capture_on_commit_callbacks
):
    gala = EventFactory(organisation=organisation, send_tickets_automatically=False)
    ticket_type = TicketTypeFactory(event=gala)
    ok, released, refunded, no_ticket = (make_order(event=gala, ticket_type=ticket_type) for _ in range(4))
    bulk = start(agent, gala, "send_held", [ok, released, refunded, no_ticket])
    Order.objects.filter(pk=released.pk).update(tickets_held=False)
    Order.objects.filter(pk=refunded.pk).update(status=Order.Status.REFUNDED)
    no_ticket.tickets.update(status="invalid", invalid_reason="cancelled")
    done = run(bulk, django_capture_on_commit_callbacks)
    got = {s["code"]: s["reason"] for s in done.skipped_orders}
    for order in (released, refunded, no_ticket):
        fresh = Order.objects.get(pk=order.pk)
        assert got[order.code] == _single_refusal(lambda o=fresh: order_send_held_tickets(actor=agent, order=o))
    assert done.done == 1 and Order.objects.get(pk=released.pk).email_status == "not_sent"


def test_a_worker_killed_mid_chunk_then_run_again_sends_each_email_once(
    agent, make_order, event, handed, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.BULK_SEND_PER_MINUTE = 60
    orders = [make_order(contact_email=f"g{i}@example.com") for i in range(5)]
    bulk = start(agent, event, "resend", orders)
    real = bulk_chunk.timeline_record_many
    chunks = []

    def killed_in_the_second_chunk(**kwargs):
        chunks.append(1)
        if len(chunks) == 2:  # its messages are inserted: the worker dies before the chunk commits
            raise SystemExit("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(bulk_chunk, "timeline_record_many", killed_in_the_second_chunk)
    with pytest.raises(SystemExit):
        run(bulk, django_capture_on_commit_callbacks, chunk=2)
    half = BulkSend.objects.get(pk=bulk.pk)
    assert (half.position, half.done) == (2, 2)
    assert OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).count() == 2 and len(handed) == 2
    monkeypatch.setattr(bulk_chunk, "timeline_record_many", real)
    done = run(bulk, django_capture_on_commit_callbacks, chunk=2)
    # And once more with the progress lost (as if the job's row had not been saved with the first chunk).
    BulkSend.objects.filter(pk=bulk.pk).update(status="running", position=0, done=0)
    again = run(bulk, django_capture_on_commit_callbacks, chunk=2)
    assert (done.done, again.done, again.skipped) == (5, 5, 0)
    sent = OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).order_by("next_attempt_at")
    assert sorted(m.order_id for m in sent) == sorted(o.pk for o in orders) and set(handed) == {m.pk for m in sent}
    assert sum(o.timeline.filter(action="tickets.resent_in_bulk").count() for o in orders) == 5
    # The pacing runs on across the chunks and the re-run: one email a second, in the job's order.
    due = [(m.next_attempt_at - half.first_send_at).total_seconds() for m in sent]
    assert due == [pytest.approx(n, abs=0.3) for n in range(5)]
    assert [m.order_id for m in sent] == half.order_ids


def test_a_chunk_takes_the_same_queries_for_3_or_30_orders(
    agent, make_order, event, django_capture_on_commit_callbacks
):
    counts = []
    for n, key in ((3, "a"), (30, "b")):
        bulk = start(agent, event, "resend", [make_order(contact_email=f"{key}{i}@example.com") for i in range(n)], key)
        BulkSend.objects.filter(pk=bulk.pk).update(status="running")
        with CaptureQueriesContext(connection) as queries:
            done = bulk_send_run(bulk_send_id=bulk.pk)
        assert done.done == n
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 20, counts


def test_a_chunk_is_handed_over_in_one_task_and_a_refusal_is_noted(
    agent, make_order, event, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(
        "celery.canvas.Signature.apply_async", lambda sig, *a, **k: published.append((sig.task, sig.args))
    )
    bulk = start(agent, event, "resend", [make_order(contact_email=f"g{i}@example.com") for i in range(3)])
    run(bulk, django_capture_on_commit_callbacks)
    ids = sorted(OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).values_list("pk", flat=True))
    assert [(task, sorted(args[0])) for task, args in published if task != "orders.tasks.bulk_send_run"] == [
        (DISPATCH_MANY_TASK, ids)
    ]

    def refused(sig, *args, **kwargs):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr("celery.canvas.Signature.apply_async", refused)
    bulk = start(agent, event, "resend", [make_order(contact_email="late@example.com")], key="k2")
    run(bulk, django_capture_on_commit_callbacks)
    late = OutgoingMessage.objects.get(idempotency_key=bulk.message_key)
    assert (late.status, late.status_reason) == ("queued", WAITING_FOR_QUEUE)  # the sweeper hands it over


def test_the_hand_over_task_skips_messages_no_longer_queued(agent, make_order, event, handed):
    first, second = make_order(), make_order()
    for order in (first, second):
        order_resend_tickets(actor=agent, order=order, idempotency_key="form")
    taken = OutgoingMessage.objects.get(order=first, idempotency_key="form")
    OutgoingMessage.objects.filter(pk=taken.pk).update(status="sent")
    waiting = OutgoingMessage.objects.get(order=second, idempotency_key="form")
    assert messages_dispatch_many(message_ids=[taken.pk, waiting.pk]) == 1
    assert list(handed) == [waiting.pk]
