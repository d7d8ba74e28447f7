"""A bulk send's chunk racing the order page's own actions, on real PostgreSQL connections: the chunk locks its
orders (by id, order rows first) and re-reads them, so a refund or cancellation that got there first is skipped
with its reason, a single resend racing it queues its own email once beside the job's, and nothing deadlocks.
A viewer may not start a bulk send and another organisation's event is a 404."""

import pytest
from django.urls import reverse

from notifications.models import OutgoingMessage
from orders.bulk import bulk_send_run, bulk_send_start
from orders.models import BulkSend, Order
from orders.services import order_cancel, order_resend_tickets
from organiser_portal.models import Membership
from tests.factories import MembershipFactory
from tests.race import order_locked, race

Role = Membership.Role


@pytest.fixture
def job(member, make_order, event):
    agent = member(Role.MANAGER)
    orders = [make_order(contact_email=f"g{i}@example.com") for i in range(4)]
    bulk = bulk_send_start(
        actor=agent, event=event, action="resend", order_ids=[o.pk for o in orders], idempotency_key="k"
    )
    return agent, orders, bulk


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_that_gets_there_first_is_skipped_not_sent(job):
    agent, orders, bulk = job
    target = orders[2]

    def cancel_first() -> None:  # it takes the order's row lock, held until the threads wait behind it
        order_cancel(actor=agent, order=Order.objects.get(pk=target.pk), idempotency_key="c")

    outcomes = race([lambda: bulk_send_run(bulk_send_id=bulk.pk, chunk=100)], cancel_first, commit=True)
    assert outcomes == [None]
    done = BulkSend.objects.get(pk=bulk.pk)
    assert (done.status, done.done, done.skipped) == ("done", 3, 1)
    assert done.skipped_orders == [{"code": target.code, "reason": "Order is cancelled"}]
    sent = OutgoingMessage.objects.filter(idempotency_key=bulk.message_key)
    assert sorted(sent.values_list("order_id", flat=True)) == sorted(o.pk for o in orders if o != target)


@pytest.mark.django_db(transaction=True)
def test_a_single_resend_racing_the_chunk_sends_once_and_neither_deadlocks(job):
    agent, orders, bulk = job
    target = orders[1]
    outcomes = race(
        [
            lambda: bulk_send_run(bulk_send_id=bulk.pk, chunk=100),
            lambda: order_resend_tickets(actor=agent, order=target, idempotency_key="form-1"),
            lambda: order_resend_tickets(actor=agent, order=target, idempotency_key="form-1"),  # a double submit
        ],
        order_locked(target.pk),
    )
    assert outcomes == [None, None, None]
    assert BulkSend.objects.get(pk=bulk.pk).done == 4
    resends = OutgoingMessage.objects.filter(order=target, kind="tickets_resend")
    assert sorted(resends.values_list("idempotency_key", flat=True)) == sorted([bulk.message_key, "form-1"])
    assert OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).count() == 4
    target.refresh_from_db()
    assert target.email_status == "queued"


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_job_at_once_queue_each_email_once(job):
    _agent, orders, bulk = job
    run = lambda: bulk_send_run(bulk_send_id=bulk.pk, chunk=2)  # noqa: E731
    assert race([run, run], order_locked(orders[0].pk)) == [None, None]
    done = BulkSend.objects.get(pk=bulk.pk)
    assert (done.status, done.done, done.position) == ("done", 4, 4)
    assert OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).count() == 4


@pytest.mark.django_db
def test_a_viewer_may_not_start_one_and_another_organisations_event_is_404(
    client, member, make_order, event, other_organisation
):
    order = make_order()
    data = {"action": "resend", "scope": "selected", "order": [order.pk], "idempotency_key": "x", "confirmed": "1/0"}
    kwargs = {"org": event.organisation.slug, "event_id": event.public_id}
    client.force_login(member(Role.VIEWER))
    assert client.post(reverse("event_bulk_start", kwargs=kwargs), data).status_code == 403
    assert client.post(reverse("event_bulk_confirm", kwargs=kwargs), data).status_code == 403
    client.force_login(MembershipFactory(organisation=other_organisation, role=Role.OWNER).user)
    other = {"org": other_organisation.slug, "event_id": event.public_id}
    assert client.post(reverse("event_bulk_start", kwargs=other), data).status_code == 404
    assert not BulkSend.objects.exists() and not OutgoingMessage.objects.filter(kind="tickets_resend").exists()
