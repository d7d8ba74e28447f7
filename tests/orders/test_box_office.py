"""Box-office and complimentary orders (orders.box_office): one transaction from the order to its tickets email,
the event's "send tickets automatically" respected, capacity refused with nothing written, one order per form."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from notifications.models import OutgoingMessage
from orders import rules
from orders.box_office import Complimentary, PaidAtBoxOffice, box_office_order_create
from orders.errors import OrderActionError
from orders.models import Order, OrderLine, Payment, TimelineEntry
from orders.services import LineRequest, order_cancel, order_refund
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, RegionFactory, TicketTypeFactory
from tests.race import race
from tickets.models import Ticket
from tickets.pdf import ticket_pages

pytestmark = pytest.mark.django_db

Role = Membership.Role
D = Decimal
CASH = PaidAtBoxOffice("Cash", reference="Till 2 #0042", note="Paid in coins")


@pytest.fixture
def standing(event):
    return TicketTypeFactory(event=event, name="Standing", price=D("40.00"), booking_fee=D("2.50"), capacity=10)


def sell(actor, event, *lines, payment=CASH, key: str | None = None, **contact) -> Order:
    contact.setdefault("contact_name", "Ada Lovelace")
    contact.setdefault("contact_email", "ada@example.com")
    return box_office_order_create(
        actor=actor,
        event=event,
        lines=[LineRequest(tt, n) for tt, n in lines],
        payment=payment,
        idempotency_key=key or uuid.uuid4().hex,
        **contact,
    )


def written() -> list[int]:
    """How many rows of everything an order makes."""
    return [m.objects.count() for m in (Order, OrderLine, Payment, Ticket, TimelineEntry, OutgoingMessage)]


def test_a_box_office_sale_is_paid_its_tickets_issued_and_emailed(member, event, standing):
    agent = member(Role.SUPPORT)
    order = sell(agent, event, (standing, 2), contact_phone="0151 23456789")

    order.refresh_from_db()
    assert (order.status, order.total, order.complimentary, order.tickets_held) == ("paid", D("85.00"), False, False)
    assert order.contact_phone_e164 == "+4915123456789"
    payment = order.payments.get()
    assert (payment.provider, payment.method, payment.reference, payment.status, payment.amount) == (
        "manual",
        "Cash",
        "Till 2 #0042",
        "confirmed",
        D("85.00"),
    )
    assert order.tickets.filter(status="valid").count() == 2
    message = OutgoingMessage.objects.get(order=order)
    assert (message.kind, message.recipient) == ("tickets", "ada@example.com")
    entries = list(order.timeline.order_by("id").values_list("action", "actor", "actor_kind"))
    assert entries == [
        ("order.reserved", None, "system"),
        ("order.box_office_created", agent.pk, "user"),
        ("order.processing_payment", agent.pk, "user"),
        ("order.confirming_payment", agent.pk, "user"),
        ("order.paid", agent.pk, "user"),
        ("email.queued", None, "system"),
    ]
    created = order.timeline.get(action="order.box_office_created")
    assert created.data["payment"] == "Cash · Till 2 #0042 · Paid in coins"
    assert "€85.00" in created.data["total"]


def test_tickets_are_held_when_the_event_does_not_send_them_automatically(member, event, standing):
    event.send_tickets_automatically = False
    event.save()
    order = sell(member(Role.SUPPORT), event, (standing, 1))

    order.refresh_from_db()
    assert order.status == "paid" and order.tickets_held
    assert order.tickets.count() == 1
    assert not OutgoingMessage.objects.filter(order=order).exists()
    assert order.timeline.filter(action="order.tickets_held").exists()


def test_a_complimentary_order_costs_nothing_says_so_and_cannot_be_refunded(member, event, standing):
    manager = member(Role.MANAGER)
    order = sell(manager, event, (standing, 2), payment=Complimentary("Press: Daily Planet"))

    order = Order.objects.select_related("event", "organisation").get(pk=order.pk)
    assert (order.status, order.total, order.complimentary) == ("paid", D("0.00"), True)
    assert order.status_label == "Paid · complimentary"
    line = order.lines.get()
    assert (line.unit_price, line.discount, line.booking_fee, line.tax, line.gross) == (
        D("40.00"),
        D("80.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert order.payments.get().method == "Complimentary"
    assert order.timeline.get(action="order.complimentary_created").data == {"reason": "Press: Daily Planet"}
    assert all(page.complimentary for page in ticket_pages(order, order.tickets.all()))

    assert rules.refusal_refund(order) == rules.COMPLIMENTARY_NO_REFUND
    with pytest.raises(OrderActionError, match="Complimentary order: nothing was paid"):
        order_refund(actor=manager, order=order, reason="Changed mind", idempotency_key="r1")
    # Cancelling still works (the tickets become invalid), with no money to send back.
    order = order_cancel(actor=manager, order=order, refund=False, reason="Not coming", idempotency_key="c1")
    assert order.status == "cancelled" and order.refunded_total == 0


def test_a_complimentary_order_needs_a_manager_and_a_reason(member, event, standing):
    with pytest.raises(PermissionDenied, match="give complimentary tickets"):
        sell(member(Role.SUPPORT), event, (standing, 1), payment=Complimentary("Friend"))
    with pytest.raises(OrderActionError, match="Say why"):
        sell(member(Role.MANAGER), event, (standing, 1), payment=Complimentary("  "))
    assert Order.objects.count() == 0


def test_capacity_short_is_refused_and_nothing_is_written(member, event, standing):
    agent = member(Role.SUPPORT)
    sell(agent, event, (standing, 8))
    before = written()
    with pytest.raises(OrderActionError, match=r"Only 2 tickets are left of 'Standing' \(capacity 10\)"):
        sell(agent, event, (standing, 3))
    assert written() == before


def test_the_same_form_submitted_twice_makes_one_order(member, event, standing):
    agent = member(Role.SUPPORT)
    first = sell(agent, event, (standing, 2), key="form-1")
    before = written()
    again = sell(agent, event, (standing, 2), key="form-1")
    assert again.pk == first.pk
    assert written() == before


def test_bad_contact_details_are_refused_before_anything_is_written(member, event, standing):
    agent = member(Role.SUPPORT)
    with pytest.raises(OrderActionError, match="not a phone number"):
        sell(agent, event, (standing, 1), contact_phone="12 34 ab")
    with pytest.raises(OrderActionError):
        sell(agent, event, (standing, 1), contact_email="ada@@example")
    with pytest.raises(OrderActionError, match="No customer account has the email"):
        sell(agent, event, (standing, 1), customer_email="nobody@example.com")
    with pytest.raises(OrderActionError, match="Choose how it was paid"):
        sell(agent, event, (standing, 1), payment=PaidAtBoxOffice("Cheque"))
    assert Order.objects.count() == 0


def test_an_order_can_be_linked_to_a_customer_account_by_email(member, organisation, event, standing):
    customer = CustomerFactory(organisation=organisation, email="grace@example.com")
    order = sell(member(Role.SUPPORT), event, (standing, 1), customer_email="Grace@Example.com")
    assert order.customer_id == customer.pk


def test_who_may_sell(member, organisation, other_organisation, event, standing):
    with pytest.raises(PermissionDenied, match=r"Viewer\) can't create box-office orders"):
        sell(member(Role.VIEWER), event, (standing, 1))
    foreign = EventFactory(organisation=other_organisation)
    with pytest.raises(Http404):
        sell(member(Role.OWNER), foreign, (TicketTypeFactory(event=foreign), 1))
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    event.region = north
    event.save()
    with pytest.raises(Http404):
        sell(member(Role.MANAGER, regions=[south]), event, (standing, 1))
    assert Order.objects.count() == 0
    assert sell(member(Role.MANAGER, regions=[north]), event, (standing, 1)).status == "paid"


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_on_two_connections_makes_one_order(organisation, member, event):
    agent = member(Role.SUPPORT)
    tt = TicketTypeFactory(event=event, capacity=None)  # nothing to lock: only the key keeps them to one
    orders: list[int] = []

    def hold() -> None:
        # Both requests pass the "already made?" look-up, then wait at the insert behind this one's key.
        blocker = Order.objects.create(
            organisation=organisation, event=event, contact_name="x", contact_email="x@example.com", currency="EUR"
        )
        Order.objects.filter(pk=blocker.pk).update(idempotency_key="double-click")

    outcomes = race(calls=[lambda: orders.append(sell(agent, event, (tt, 1), key="double-click").pk)] * 2, hold=hold)
    assert outcomes == [None, None]
    assert all(isinstance(o, int) for o in orders), orders
    assert len(set(orders)) == 1
    assert Order.objects.filter(idempotency_key="double-click").count() == 1
