"""Ticket delivery actions: resend, change contact (and fix and resend), send held tickets, and paid → queued."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from notifications.models import OutgoingMessage
from orders.errors import OrderActionError
from orders.models import Order, TimelineEntry
from orders.services import order_change_contact, order_resend_tickets, order_send_held_tickets
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, MembershipFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


def entries(order: Order) -> list[str]:
    return list(TimelineEntry.objects.filter(order=order).order_by("created_at", "id").values_list("action", flat=True))


@pytest.fixture
def held_order(make_order, organisation):
    event = EventFactory(organisation=organisation, send_tickets_automatically=False)
    return make_order(event=event, ticket_type=TicketTypeFactory(event=event), quantity=2)


# --- order_mark_paid --------------------------------------------------------


def test_paid_order_queues_one_tickets_email_and_says_so(make_order):
    order = make_order(quantity=2)
    (message,) = order.messages.all()
    assert (message.kind, message.recipient, message.status) == ("tickets", order.contact_email, "queued")
    assert entries(order)[-2:] == ["order.paid", "email.queued"]
    assert order.email_status == "queued"


def test_held_order_waits(held_order):
    assert held_order.tickets_held and not held_order.messages.exists()
    assert entries(held_order)[-1] == "order.tickets_held"


# --- order_resend_tickets ---------------------------------------------------


def test_resend_queues_the_existing_tickets_and_writes_one_entry(make_order, member):
    order = make_order(quantity=2)
    tickets_before = list(order.tickets.values_list("public_id", "status"))
    before = entries(order)
    agent = member(Role.SUPPORT)
    message = order_resend_tickets(actor=agent, order=order, idempotency_key="abc")
    order.refresh_from_db()
    assert (message.kind, message.recipient, message.created_by) == ("tickets_resend", "anna@example.com", agent)
    assert entries(order) == [*before, "tickets.resent"]
    entry = TimelineEntry.objects.get(order=order, action="tickets.resent")
    assert entry.actor == agent and entry.data["recipient"] == "anna@example.com"
    assert order.status == "paid" and order.email_status == "queued"
    assert list(order.tickets.values_list("public_id", "status")) == tickets_before
    assert Order.objects.count() == 1


def test_resend_double_submit_queues_one_message(make_order, member):
    order = make_order()
    agent = member(Role.SUPPORT)
    first = order_resend_tickets(actor=agent, order=order, idempotency_key="same-token")
    second = order_resend_tickets(actor=agent, order=order, idempotency_key="same-token")
    assert first == second
    assert order.messages.filter(kind="tickets_resend").count() == 1
    assert entries(order).count("tickets.resent") == 1


def test_resend_once_to_another_address_keeps_the_contact(make_order, member):
    order = make_order()
    message = order_resend_tickets(actor=member(), order=order, recipient=" anna.m@work.example ", idempotency_key="k")
    order.refresh_from_db()
    assert message.recipient == "anna.m@work.example" and order.contact_email == "anna@example.com"
    assert TimelineEntry.objects.get(order=order, action="tickets.resent").data["other_address"] is True


def test_resend_to_an_invalid_address_is_refused(make_order, member):
    order = make_order()
    with pytest.raises(OrderActionError, match="not a valid email address"):
        order_resend_tickets(actor=member(), order=order, recipient="anna@", idempotency_key="k")


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda o: o.tickets.update(status="invalid", invalid_reason="refunded"), "No valid ticket to send"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="cancelled"), "Order is cancelled"),
        (lambda o: Order.objects.filter(pk=o.pk).update(tickets_held=True), "Tickets are held for review"),
    ],
)
def test_resend_refused_in_the_wrong_state(make_order, member, setup, reason):
    order = make_order()
    setup(order)
    with pytest.raises(OrderActionError, match=reason):
        order_resend_tickets(actor=member(), order=order, idempotency_key="k")
    assert not order.messages.filter(kind="tickets_resend").exists()


def test_resend_refused_for_an_unpaid_order(make_order, member):
    order = make_order(paid=False)
    with pytest.raises(OrderActionError, match="Order is not paid yet"):
        order_resend_tickets(actor=member(), order=order)


def test_resend_refused_for_a_viewer(make_order, member):
    order = make_order()
    with pytest.raises(PermissionDenied):
        order_resend_tickets(actor=member(Role.VIEWER), order=order, idempotency_key="k")
    assert not order.messages.filter(kind="tickets_resend").exists()


def test_resend_of_another_organisations_order_is_a_404(make_order, other_organisation):
    order = make_order()
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        order_resend_tickets(actor=outsider, order=order, idempotency_key="k")


# --- order_change_contact ---------------------------------------------------


def test_change_contact_records_old_and_new(make_order, member):
    order = make_order()
    before = entries(order)
    agent = member()
    order = order_change_contact(
        actor=agent, order=order, name="Anna Müller", email="anna@gmail.com", phone="+49 40 123"
    )
    order.refresh_from_db()
    assert (order.contact_email, order.contact_phone) == ("anna@gmail.com", "+49 40 123")
    assert entries(order) == [*before, "order.contact_changed"]
    entry = TimelineEntry.objects.get(order=order, action="order.contact_changed")
    assert entry.actor == agent
    assert entry.data["old"] == {"contact_email": "anna@example.com", "contact_phone": ""}
    assert entry.data["new"] == {"contact_email": "anna@gmail.com", "contact_phone": "+49 40 123"}
    assert "anna@example.com → anna@gmail.com" in entry.data["changes"]
    assert not order.messages.filter(kind="tickets_resend").exists()


def test_change_contact_twice_changes_once(make_order, member):
    order = make_order()
    for _ in range(2):
        order_change_contact(actor=member(), order=order, name="Anna M.", email="anna@example.com", phone="")
    assert entries(order).count("order.contact_changed") == 1


def test_verified_customer_email_cant_be_changed(make_order, member, organisation):
    customer = CustomerFactory(organisation=organisation, email="anna@example.com", verified=True)
    order = make_order(customer=customer)
    with pytest.raises(OrderActionError, match="Customer account is verified: the email can't be changed"):
        order_change_contact(actor=member(), order=order, name="Anna Müller", email="x@example.com", phone="")
    # Name and phone still may change.
    order_change_contact(actor=member(), order=order, name="Anna Müller", email="anna@example.com", phone="+49 1")
    order.refresh_from_db()
    assert (order.contact_email, order.contact_phone) == ("anna@example.com", "+49 1")


def test_change_contact_refused_on_an_expired_order(make_order, member):
    order = make_order(paid=False)
    Order.objects.filter(pk=order.pk).update(status="expired")
    with pytest.raises(OrderActionError, match="Order expired"):
        order_change_contact(actor=member(), order=order, name="A", email="a@example.com", phone="")


def test_change_contact_refused_for_a_viewer_and_404_for_another_organisation(make_order, member, other_organisation):
    order = make_order()
    with pytest.raises(PermissionDenied):
        order_change_contact(actor=member(Role.VIEWER), order=order, name="X", email="x@example.com", phone="")
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        order_change_contact(actor=outsider, order=order, name="X", email="x@example.com", phone="")
    order.refresh_from_db()
    assert order.contact_email == "anna@example.com"


def test_fix_and_resend_changes_the_address_and_queues_one_email(make_order, member):
    order = make_order(contact_email="anna@gmial.com")
    agent = member()
    for _ in range(2):  # a double click
        order_change_contact(
            actor=agent,
            order=order,
            name=order.contact_name,
            email="anna@gmail.com",
            phone="",
            resend_tickets=True,
            idempotency_key="fix-1",
        )
    resent = order.messages.filter(kind=OutgoingMessage.Kind.TICKETS_RESEND)
    assert [m.recipient for m in resent] == ["anna@gmail.com"]
    assert entries(order)[-2:] == ["order.contact_changed", "tickets.resent"]
    assert entries(order).count("order.contact_changed") == 1


def test_fix_and_resend_needs_the_resend_permission_too(make_order, member):
    order = make_order()
    with pytest.raises(PermissionDenied):
        order_change_contact(
            actor=member(Role.VIEWER), order=order, name="A", email="a@gmail.com", phone="", resend_tickets=True
        )


# --- order_send_held_tickets ------------------------------------------------


def test_send_held_releases_and_queues(held_order, member):
    before = entries(held_order)
    agent = member()
    order = order_send_held_tickets(actor=agent, order=held_order)
    assert not order.tickets_held
    (message,) = order.messages.all()
    assert (message.kind, message.recipient, message.created_by) == ("tickets", "anna@example.com", agent)
    assert entries(order) == [*before, "order.held_tickets_sent"]
    order.refresh_from_db()
    assert order.email_status == "queued"


def test_send_held_twice_with_the_same_key_sends_once(held_order, member):
    order_send_held_tickets(actor=member(), order=held_order, idempotency_key="held-1")
    order_send_held_tickets(actor=member(), order=held_order, idempotency_key="held-1")
    assert held_order.messages.count() == 1
    assert entries(held_order).count("order.held_tickets_sent") == 1


def test_send_held_again_is_refused_with_the_menus_reason(held_order, member):
    order_send_held_tickets(actor=member(), order=held_order, idempotency_key="held-1")
    with pytest.raises(OrderActionError, match="^No tickets are held for this order$"):
        order_send_held_tickets(actor=member(), order=held_order, idempotency_key="held-2")
    assert held_order.messages.count() == 1


def test_send_held_on_an_order_that_was_never_held_is_refused_and_sends_nothing(make_order, member):
    order = make_order()  # paid, tickets emailed at once
    with pytest.raises(OrderActionError, match="^No tickets are held for this order$"):
        order_send_held_tickets(actor=member(), order=order, idempotency_key="k")
    assert order.messages.count() == 1 and "order.held_tickets_sent" not in entries(order)


def test_an_idempotency_key_reused_on_another_order_is_another_action(make_order, member):
    agent = member()
    first, second = make_order(), make_order(contact_email="ben@example.com")
    one = order_resend_tickets(actor=agent, order=first, idempotency_key="same-token")
    other = order_resend_tickets(actor=agent, order=second, idempotency_key="same-token")
    assert one.pk != other.pk and (one.order_id, other.order_id) == (first.pk, second.pk)
    assert other.recipient == "ben@example.com"
    # Still once per order.
    assert order_resend_tickets(actor=agent, order=second, idempotency_key="same-token").pk == other.pk
    assert second.messages.filter(kind="tickets_resend").count() == 1


def test_send_held_refused_when_nothing_is_held(make_order, member):
    order = make_order(paid=False)
    with pytest.raises(OrderActionError, match="Order is not paid yet"):
        order_send_held_tickets(actor=member(), order=order)


def test_send_held_refused_for_a_viewer_and_404_for_another_organisation(held_order, member, other_organisation):
    with pytest.raises(PermissionDenied):
        order_send_held_tickets(actor=member(Role.VIEWER), order=held_order)
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        order_send_held_tickets(actor=outsider, order=held_order)
    held_order.refresh_from_db()
    assert held_order.tickets_held and not held_order.messages.exists()
