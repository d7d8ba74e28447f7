"""Two managers asking at the same moment, on real PostgreSQL connections: the order's row lock lets exactly
one refund through for the same tickets, and a double submit racing itself makes one refund."""

from decimal import Decimal

import pytest

from orders.errors import OrderActionError
from orders.models import Refund, TimelineEntry
from orders.services import (
    LineRequest,
    order_cancel,
    order_create,
    order_mark_confirming_payment,
    order_mark_paid,
    order_refund,
    order_start_payment,
)
from organiser_portal.models import Membership
from tests.factories import TicketTypeFactory
from tests.race import order_locked, race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order(event):
    tt = TicketTypeFactory(event=event, price=Decimal("50.00"), booking_fee=Decimal("2.50"))
    order = order_create(event=event, contact_name="Jo", contact_email="jo@example.com", lines=[LineRequest(tt, 2)])
    order_start_payment(order=order, provider="sandbox")
    order_mark_confirming_payment(order=order)
    return order_mark_paid(order=order)


def test_two_requests_for_the_same_ticket_make_one_refund(order, member):
    a, b = member(Membership.Role.MANAGER), member(Membership.Role.OWNER)
    ticket = order.tickets.order_by("id").first().public_id
    outcomes = race(
        hold=order_locked(order.pk),
        calls=[
            lambda: order_refund(actor=a, order=order, tickets=[ticket], reason="x", idempotency_key="from-a"),
            lambda: order_refund(actor=b, order=order, tickets=[ticket], reason="x", idempotency_key="from-b"),
        ],
    )
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1 and isinstance(refused[0], OrderActionError)
    assert str(refused[0]) == f"Already {ticket} invalid · refunded."
    assert Refund.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.refunding_total + order.refunded_total == Decimal("50.00")  # on its way, or back already
    assert TimelineEntry.objects.filter(order=order, action="ticket.refunded").count() == 1


def test_a_double_submit_racing_itself_makes_one_refund(order, member):
    manager = member(Membership.Role.MANAGER)
    ask = lambda: order_refund(actor=manager, order=order, all_tickets=True, reason="x", idempotency_key="same")  # noqa: E731
    assert race(hold=order_locked(order.pk), calls=[ask, ask, ask]) == [None, None, None]
    assert Refund.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.refunding_total + order.refunded_total == Decimal("100.00")


def test_a_refund_and_a_cancel_racing_never_go_over_the_total(order, member):
    manager = member(Membership.Role.MANAGER)
    outcomes = race(
        hold=order_locked(order.pk),
        calls=[
            lambda: order_refund(actor=manager, order=order, amount=Decimal("100.00"), reason="x", idempotency_key="r"),
            lambda: order_cancel(actor=manager, order=order, refund=True, reason="x", idempotency_key="c"),
        ],
    )
    order.refresh_from_db()
    assert order.refunded_total + order.refunding_total <= order.total
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) <= order.total
    assert any(o is None for o in outcomes)
