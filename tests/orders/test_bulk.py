"""Bulk sends on an event's guest list: the plan (what is skipped and why), pacing, a re-run that sends nothing
twice, the timeline naming who started it, and who may."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from notifications.models import OutgoingMessage, Suppression
from notifications.services import message_claim
from orders.bulk import bulk_send_plan, bulk_send_run, bulk_send_start
from orders.errors import OrderActionError
from orders.models import BulkSend, Order
from orders.selectors import bulk_send_progress
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def held_event(organisation):
    return EventFactory(organisation=organisation, name="Winter Gala", send_tickets_automatically=False)


@pytest.fixture
def held(make_order, held_event):
    """make(**contact) → a paid order of the held event, its tickets held for review."""
    ticket_type = TicketTypeFactory(event=held_event)

    def make(**contact) -> Order:
        return make_order(event=held_event, ticket_type=ticket_type, **contact)

    return make


@pytest.fixture
def agent(member):
    return member(Role.SUPPORT)


def start(agent, event, action, orders, key="k1") -> BulkSend:
    return bulk_send_start(
        actor=agent, event=event, action=action, order_ids=[o.pk for o in orders], idempotency_key=key
    )


def test_send_held_skips_what_it_cannot_send_with_the_reason(agent, held, make_order, held_event, settings):
    ready = [
        held(contact_email="a@example.com"),
        held(contact_email="A@example.com"),
        held(contact_email="b@example.com"),
    ]
    unpaid = held(paid=False)
    cancelled = held()
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    refunded = held()
    Order.objects.filter(pk=refunded.pk).update(status=Order.Status.REFUNDED)
    no_tickets = held()
    no_tickets.tickets.update(status="invalid", invalid_reason="cancelled")
    already = held()
    Order.objects.filter(pk=already.pk).update(tickets_held=False)
    other_event = make_order()  # not this event's: ignored, not listed
    ids = [o.pk for o in [*ready, unpaid, cancelled, refunded, no_tickets, already, other_event]]
    plan = bulk_send_plan(actor=agent, event=held_event, action="send_held", order_ids=ids)
    assert sorted(plan.order_ids) == sorted(o.pk for o in ready)
    assert plan.addresses == 2  # a@ and A@ are one address
    reasons = {s.code: s.reason for s in plan.skipped}
    assert reasons == {
        unpaid.code: "Order is not paid yet",
        cancelled.code: "Order is cancelled",
        refunded.code: "Order is fully refunded",
        no_tickets.code: "No valid ticket to send",
        already.code: "No tickets are held for this order",
    }


def test_resend_skips_held_orders_and_suppressed_addresses(agent, make_order, event, held, held_event):
    good, bounced = make_order(contact_email="ok@example.com"), make_order(contact_email="gone@example.com")
    Suppression.objects.create(organisation=event.organisation, address="GONE@example.com", reason="bounced")
    plan = bulk_send_plan(actor=agent, event=event, action="resend", order_ids=[good.pk, bounced.pk])
    assert plan.order_ids == [good.pk]
    assert plan.skipped[0].code == bounced.code and "suppression list (hard bounce)" in plan.skipped[0].reason
    complained = make_order(contact_email="spam@example.com")
    complained.messages.update(status="complained")
    plan = bulk_send_plan(actor=agent, event=event, action="resend", order_ids=[complained.pk])
    assert "marked the tickets email as spam" in plan.skipped[0].reason
    held_plan = bulk_send_plan(actor=agent, event=held_event, action="resend", order_ids=[held().pk])
    assert held_plan.skipped[0].reason == "Tickets are held for review: use Send held tickets"


def test_the_run_sends_each_order_through_its_service_paced_and_named(agent, held, held_event, settings):
    settings.BULK_SEND_PER_MINUTE = 30  # one every 2 s
    orders = [held(contact_email=f"guest{i}@example.com") for i in range(5)]
    bulk = start(agent, held_event, "send_held", orders)
    done = bulk_send_run(bulk_send_id=bulk.pk, chunk=2)
    assert (done.status, done.done, done.skipped, done.position) == ("done", 5, 0, 5)
    messages = OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).order_by("next_attempt_at")
    assert messages.count() == 5 and all(m.created_by == agent for m in messages)
    gaps = [
        (b.next_attempt_at - a.next_attempt_at).total_seconds() for a, b in zip(messages, messages[1:], strict=False)
    ]
    assert gaps == [pytest.approx(2.0, abs=0.2)] * 4
    assert messages[0].next_attempt_at >= bulk.first_send_at
    for order in orders:
        order.refresh_from_db()
        assert not order.tickets_held
        entry = order.timeline.get(action="order.held_tickets_sent_in_bulk")
        assert entry.actor == agent and entry.data["bulk"] == bulk.pk
    # Pacing holds at the claim too: the last email can't be taken before its time.
    assert message_claim(message_id=messages.last().pk) is None


def test_a_rerun_after_a_crash_sends_nothing_twice(agent, make_order, event):
    orders = [make_order(contact_email=f"g{i}@example.com") for i in range(3)]
    bulk = start(agent, event, "resend", orders)
    bulk_send_run(bulk_send_id=bulk.pk)
    # As if the task died after queueing, before its progress was saved, and ran again.
    BulkSend.objects.filter(pk=bulk.pk).update(status="running", position=0, done=0)
    again = bulk_send_run(bulk_send_id=bulk.pk)
    assert again.done == 3
    assert OutgoingMessage.objects.filter(kind="tickets_resend").count() == 3
    assert sum(o.timeline.filter(action="tickets.resent_in_bulk").count() for o in orders) == 3
    # And a finished job run again does nothing at all.
    assert bulk_send_run(bulk_send_id=bulk.pk).done == 3


def test_an_order_cancelled_after_the_confirmation_is_skipped_with_the_reason(agent, make_order, event):
    orders = [make_order(), make_order()]
    bulk = start(agent, event, "resend", orders)
    Order.objects.filter(pk=orders[1].pk).update(status=Order.Status.CANCELLED)
    done = bulk_send_run(bulk_send_id=bulk.pk)
    assert (done.done, done.skipped) == (1, 1)
    assert done.skipped_orders == [{"code": orders[1].code, "reason": "Order is cancelled"}]


def test_the_same_confirmation_twice_is_one_job_and_nothing_to_send_is_refused(agent, make_order, event):
    orders = [make_order()]
    assert start(agent, event, "resend", orders).pk == start(agent, event, "resend", orders).pk
    Order.objects.filter(pk=orders[0].pk).update(status=Order.Status.CANCELLED)
    with pytest.raises(OrderActionError, match="None of the chosen orders"):
        start(agent, event, "resend", orders, key="k2")


def test_a_member_who_lost_the_right_stops_the_job(agent, make_order, event):
    bulk = start(agent, event, "resend", [make_order()])
    Membership.objects.filter(user=agent).update(role=Role.VIEWER)
    done = bulk_send_run(bulk_send_id=bulk.pk)
    assert done.status == "failed" and "may no longer send" in done.error
    assert not OutgoingMessage.objects.filter(kind="tickets_resend").exists()


def test_viewers_may_not_and_regions_and_other_organisations_are_404(
    member, make_order, organisation, other_organisation
):
    north = RegionFactory(organisation=organisation, name="North")
    south = RegionFactory(organisation=organisation, name="South")
    event = EventFactory(organisation=organisation, region=north)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    with pytest.raises(PermissionDenied):
        bulk_send_plan(actor=member(Role.VIEWER), event=event, action="resend", order_ids=[order.pk])
    south_agent = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[south]).user
    with pytest.raises(Http404):
        bulk_send_plan(actor=south_agent, event=event, action="resend", order_ids=[order.pk])
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        bulk_send_plan(actor=outsider, event=event, action="resend", order_ids=[order.pk])
    north_agent = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[north]).user
    assert bulk_send_plan(actor=north_agent, event=event, action="resend", order_ids=[order.pk]).order_ids == [order.pk]


def test_too_many_orders_are_refused(agent, make_order, event, settings):
    settings.BULK_SEND_MAX_ORDERS = 1
    orders = [make_order(), make_order()]
    with pytest.raises(OrderActionError, match="narrow the filters"):
        bulk_send_plan(actor=agent, event=event, action="resend", order_ids=[o.pk for o in orders])


# --- The pages --------------------------------------------------------------------------------------


def urls(event) -> dict[str, str]:
    kwargs = {"org": event.organisation.slug, "event_id": event.public_id}
    return {name: reverse(name, kwargs=kwargs) for name in ("event_guests", "event_bulk_confirm", "event_bulk_start")}


def test_the_guest_list_offers_bulk_sends_to_support_not_to_viewers(client, member, held, held_event):
    held()
    client.force_login(member(Role.VIEWER))
    assert 'id="bulk-form"' not in client.get(urls(held_event)["event_guests"]).content.decode()
    client.force_login(member(Role.SUPPORT))
    html = client.get(urls(held_event)["event_guests"]).content.decode()
    assert 'id="bulk-form"' in html and 'form="bulk-form"' in html and "Send held tickets…" in html


def test_confirm_then_start_every_order_matching_the_filters(client, agent, held, held_event, make_order):
    ready = [held(contact_email=f"g{i}@example.com") for i in range(3)]
    cancelled = held()
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    client.force_login(agent)
    selection = {"action": "send_held", "scope": "matching", "filters": "held=on"}
    page = client.post(urls(held_event)["event_bulk_confirm"], selection)
    html = page.content.decode()
    assert page.status_code == 200
    assert "3 orders</strong> to <strong>3 distinct addresses" in html
    assert cancelled.code in html and "Order is cancelled" in html
    assert not BulkSend.objects.exists()  # the confirmation changes nothing
    key = page.context["idempotency_key"]
    response = client.post(
        urls(held_event)["event_bulk_start"], {**selection, "idempotency_key": key, "confirmed": "3/1"}
    )
    bulk = BulkSend.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/bulk/{bulk.pk}/")
    assert (bulk.total, bulk.skipped, bulk.addresses) == (3, 1, 3)
    bulk_send_run(bulk_send_id=bulk.pk)  # the task (tests have no worker)
    detail = client.get(response["Location"])
    assert "Sending: 0 of 3 emails" in detail.content.decode()
    assert "0 of 3 sent · 3 waiting their turn" in detail.content.decode()
    assert bulk_send_progress(BulkSend.objects.get()).sending
    for order in ready:
        order.refresh_from_db()
        assert not order.tickets_held


def test_start_shows_the_confirmation_again_when_the_orders_changed(client, agent, make_order, event):
    orders = [make_order(), make_order()]
    client.force_login(agent)
    data = {"action": "resend", "scope": "selected", "order": [o.pk for o in orders], "idempotency_key": "x"}
    Order.objects.filter(pk=orders[0].pk).update(status=Order.Status.CANCELLED)
    response = client.post(urls(event)["event_bulk_start"], {**data, "confirmed": "2/0"})
    assert response.status_code == 409 and "changed since you looked" in response.content.decode()
    assert not BulkSend.objects.exists()


def test_the_progress_survives_a_reload_and_stops_polling_when_done(client, agent, make_order, event):
    bulk = start(agent, event, "resend", [make_order()])
    bulk_send_run(bulk_send_id=bulk.pk)
    url = reverse(
        "event_bulk_detail", kwargs={"org": event.organisation.slug, "event_id": event.public_id, "bulk_id": bulk.pk}
    )
    client.force_login(agent)
    assert 'hx-trigger="every 2s"' in client.get(url).content.decode()
    OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).update(status="delivered")
    html = client.get(url).content.decode()
    assert "Done: 1 of 1 email sent" in html and "every 2s" not in html
    assert "1 of 1 sent" in html and "waiting their turn" not in html  # not "1 sent · 1 queued of 1"
    # The guest list shows the job's bar too.
    assert f"bulk-progress-{bulk.pk}" in client.get(urls(event)["event_guests"]).content.decode()


def test_another_organisations_job_is_404(client, other_organisation, agent, make_order, event):
    bulk = start(agent, event, "resend", [make_order()])
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    client.force_login(outsider)
    url = reverse(
        "event_bulk_detail", kwargs={"org": other_organisation.slug, "event_id": event.public_id, "bulk_id": bulk.pk}
    )
    assert client.get(url).status_code == 404


def test_paced_messages_are_handed_over_with_their_countdown(
    agent, make_order, event, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.BULK_SEND_PER_MINUTE = 60
    handed: dict[int, float] = {}

    def dispatch(*, message_id: int, countdown: float = 0.0) -> bool:
        handed[message_id] = countdown
        return True

    monkeypatch.setattr("notifications.services.outbox.message_dispatch", dispatch)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the chunk's hand-over task, in process
    bulk = start(agent, event, "resend", [make_order(), make_order(), make_order()])
    with django_capture_on_commit_callbacks(execute=True):
        bulk_send_run(bulk_send_id=bulk.pk)
    ids = OutgoingMessage.objects.filter(idempotency_key=bulk.message_key).order_by("next_attempt_at")
    assert [round(handed[m.pk]) for m in ids] == [0, 1, 2]
