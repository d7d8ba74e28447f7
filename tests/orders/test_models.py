"""Database constraints that protect the data, whatever code writes it."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.models import Order
from tickets.models import Ticket

from ..factories import CustomerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"total": Decimal("-1.00")},
        {"discount_total": Decimal("-0.01")},
        {"refunded_total": Decimal("-5.00")},
        {"refunded_total": Decimal("1000.00")},  # more than the order's total
    ],
)
def test_order_amounts_are_checked(make_order, fields):
    order = make_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(**fields)


def test_refunded_total_may_reach_the_total(make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(refunded_total=order.total)


def test_order_code_is_unique_per_organisation_only(make_order, event, other_organisation):
    first, second = make_order(), make_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=second.pk).update(code=first.code)
    from ..factories import EventFactory, TicketTypeFactory

    other_event = EventFactory(organisation=other_organisation)
    third = make_order(event=other_event, ticket_type=TicketTypeFactory(event=other_event))
    Order.objects.filter(pk=third.pk).update(code=first.code)  # another organisation may use the same code
    assert Order.objects.filter(code=first.code).count() == 2


def test_ticket_public_id_is_unique(make_order):
    order = make_order(quantity=2)
    a, b = order.tickets.all()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=b.pk).update(public_id=a.public_id)


def test_a_valid_ticket_has_no_invalid_reason(make_order):
    ticket = make_order().tickets.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(invalid_reason=Ticket.InvalidReason.REFUNDED)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Ticket.Status.INVALID, invalid_reason=Ticket.InvalidReason.REFUNDED
    )
    ticket.refresh_from_db()
    assert ticket.display_status == "Invalid · refunded"


def test_customer_email_is_unique_per_organisation_ignoring_case(organisation):
    CustomerFactory(organisation=organisation, email="Anna@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(organisation=organisation, email="anna@example.COM")
    CustomerFactory(organisation=OrganisationFactory(), email="anna@example.com")


def test_order_line_quantity_must_be_positive(make_order):
    line = make_order().lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(line).objects.filter(pk=line.pk).update(quantity=0)
