"""A ticket type's capacity: new orders can't take more admissions than are left, freed admissions count again,
and two orders racing for the last seats on separate connections get them once."""

from decimal import Decimal

import pytest

from orders.capacity import capacity_taken
from orders.errors import OrderActionError
from orders.models import Order
from orders.pricing import line_amounts
from orders.services import (
    LineRequest,
    order_create,
    order_expire,
    order_mark_confirming_payment,
    order_mark_paid,
    order_start_payment,
)
from organiser_portal.models import TicketType
from tests.factories import TicketTypeFactory
from tests.race import race

D = Decimal


def buy(event, *lines: tuple[TicketType, int]) -> Order:
    return order_create(
        event=event,
        contact_name="Ada Lovelace",
        contact_email="ada@example.com",
        lines=[LineRequest(tt, n) for tt, n in lines],
    )


def pay(order: Order) -> Order:
    order_start_payment(order=order, provider="sandbox", reference=f"pi_{order.pk}")
    order_mark_confirming_payment(order=order)
    return order_mark_paid(order=order)


@pytest.mark.django_db
def test_an_order_over_capacity_is_refused_and_writes_nothing(event):
    tt = TicketTypeFactory(event=event, name="Standing", capacity=5)
    pay(buy(event, (tt, 3)))
    with pytest.raises(OrderActionError, match=r"Only 2 tickets are left of 'Standing' \(capacity 5\)"):
        buy(event, (tt, 3))
    assert Order.objects.filter(event=event).count() == 1
    buy(event, (tt, 2))
    with pytest.raises(OrderActionError, match="'Standing' is sold out"):
        buy(event, (tt, 1))


@pytest.mark.django_db
def test_two_lines_of_one_type_count_together_and_unlimited_types_pass(event):
    limited = TicketTypeFactory(event=event, name="Balcony", capacity=2)
    open_type = TicketTypeFactory(event=event, capacity=None)
    with pytest.raises(OrderActionError, match="Only 2 tickets"):
        buy(event, (limited, 2), (limited, 1))
    buy(event, (open_type, 500), (limited, 1))
    assert capacity_taken([limited.pk, open_type.pk]) == {limited.pk: 1, open_type.pk: 500}


@pytest.mark.django_db
def test_expired_orders_free_their_admissions(event):
    tt = TicketTypeFactory(event=event, capacity=2)
    order = buy(event, (tt, 2))
    assert capacity_taken([tt.pk]) == {tt.pk: 2}
    order_expire(order=order, reason="Payment not completed in time.")
    assert capacity_taken([tt.pk]) == {tt.pk: 0}
    pay(buy(event, (tt, 2)))
    assert capacity_taken([tt.pk]) == {tt.pk: 2}


def test_line_amounts_split_price_tax_fee_and_discount():
    amounts = line_amounts(
        price=D("59.50"), booking_fee=D("2.00"), tax_rate=D("19"), quantity=2, currency="EUR", discount_percent=D("10")
    )
    assert amounts.discount == D("11.90")
    assert amounts.booking_fee == D("4.00")
    assert amounts.tax == D("17.10")  # 107.10 × 19 / 119
    assert amounts.gross == D("111.10")
    assert line_amounts(price=D("1000"), booking_fee=D("0"), tax_rate=D("10"), quantity=1, currency="JPY").tax == D(
        "91"
    )


@pytest.mark.django_db(transaction=True)
def test_two_orders_racing_for_the_last_seats_get_them_once(event):
    tt = TicketTypeFactory(event=event, capacity=3)
    # Both wait inside order_create behind the ticket type's row lock.
    outcomes = race(
        calls=[lambda: buy(event, (tt, 2))] * 2,
        hold=lambda: TicketType.objects.select_for_update().get(pk=tt.pk),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "OrderActionError"]
    assert capacity_taken([tt.pk]) == {tt.pk: 2}
