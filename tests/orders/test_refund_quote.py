"""What a refund gives back, to the cent and to the yen, with discounts, booking fees and tax (hand-computed)."""

from decimal import Decimal

import pytest

from orders.errors import OrderActionError
from orders.models import Order
from orders.refund_quote import parse_amount, refund_quote, split_minor, ticket_shares
from tests.factories import EventFactory, TicketTypeFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def euro_order(organisation, make_order):
    """3 × 33.33 EUR, 10 % promo discount, 19 % tax included, booking fee 1.00 a ticket.

    Discount 99.99 × 10 % = 9.999 → 10.00; price 99.99 − 10.00 = 89.99 → 30.00 + 30.00 + 29.99;
    tax 89.99 × 19 / 119 = 14.3681… → 14.37 → 4.79 × 3; booking fee 3.00; total 92.99.
    """
    event = EventFactory(organisation=organisation, currency="EUR")
    tt = TicketTypeFactory(event=event, price=D("33.33"), booking_fee=D("1.00"), tax_rate=D("19"))
    order = make_order(quantity=3, event=event, ticket_type=tt, discount_percent=D("10"))
    assert order.total == D("92.99") and order.discount_total == D("10.00")
    return order


@pytest.fixture
def yen_order(organisation, make_order):
    """3 × 1001 JPY, 50 % discount, 10 % tax included, booking fee 100 a ticket.

    Discount 3003 × 50 % = 1501.5 → 1502; price 3003 − 1502 = 1501 → 501 + 500 + 500;
    tax 1501 × 10 / 110 = 136.45… → 136 → 46 + 45 + 45; booking fee 300; total 1801.
    """
    event = EventFactory(organisation=organisation, currency="JPY")
    tt = TicketTypeFactory(event=event, price=D("1001"), booking_fee=D("100"), tax_rate=D("10"))
    order = make_order(quantity=3, event=event, ticket_type=tt, discount_percent=D("50"))
    assert order.total == D("1801")
    return order


def _ids(order: Order) -> list[str]:
    return list(order.tickets.order_by("id").values_list("public_id", flat=True))


def test_split_gives_the_leftover_minor_units_to_the_first_shares():
    assert split_minor(D("10.00"), 3, "EUR") == [D("3.34"), D("3.33"), D("3.33")]
    assert split_minor(D("1000"), 3, "JPY") == [D("334"), D("333"), D("333")]
    assert split_minor(D("0.02"), 3, "EUR") == [D("0.01"), D("0.01"), D("0.00")]


def test_euro_ticket_shares_add_up_to_the_line(euro_order):
    shares = ticket_shares(euro_order)
    assert [s.price for s in shares] == [D("30.00"), D("30.00"), D("29.99")]
    assert [s.tax for s in shares] == [D("4.79")] * 3
    assert [s.booking_fee for s in shares] == [D("1.00")] * 3
    line = euro_order.lines.get()
    assert sum(s.price for s in shares) + sum(s.booking_fee for s in shares) == line.gross == euro_order.total


def test_euro_one_ticket_keeps_its_booking_fee_by_default(euro_order):
    first = _ids(euro_order)[0]
    quote = refund_quote(euro_order, tickets=[first])
    assert (quote.amount, quote.price, quote.tax) == (D("30.00"), D("30.00"), D("4.79"))
    assert quote.booking_fee_kept == D("1.00") and not quote.booking_fee_refunded
    assert [s.ticket.public_id for s in quote.tickets] == [first]
    assert quote.remaining == D("62.99")


def test_euro_last_ticket_with_its_booking_fee(euro_order):
    quote = refund_quote(euro_order, tickets=[_ids(euro_order)[2].lower()], include_booking_fee=True)
    assert quote.amount == D("30.99")  # 29.99 + 1.00
    assert quote.booking_fee_kept == D("0")


def test_euro_all_tickets_without_and_with_the_booking_fee(euro_order):
    assert refund_quote(euro_order, all_tickets=True).amount == D("89.99")
    assert refund_quote(euro_order, all_tickets=True).booking_fee_kept == D("3.00")
    assert refund_quote(euro_order, all_tickets=True, include_booking_fee=True).amount == D("92.99")


def test_yen_shares_and_refunds_are_whole_yen(yen_order):
    shares = ticket_shares(yen_order)
    assert [s.price for s in shares] == [D("501"), D("500"), D("500")]
    assert [s.tax for s in shares] == [D("46"), D("45"), D("45")]
    ids = _ids(yen_order)
    assert refund_quote(yen_order, tickets=ids[:2]).amount == D("1001")
    assert refund_quote(yen_order, tickets=ids[:2]).tax == D("91")
    assert refund_quote(yen_order, tickets=[ids[1]], include_booking_fee=True).amount == D("600")
    assert refund_quote(yen_order, all_tickets=True, include_booking_fee=True).amount == D("1801")


def test_yen_custom_amount_takes_no_decimals(yen_order):
    assert refund_quote(yen_order, amount=D("250")).amount == D("250")
    with pytest.raises(OrderActionError, match="JPY amounts take whole amounts"):
        refund_quote(yen_order, amount=D("12.5"))
    with pytest.raises(OrderActionError, match="EUR amounts take at most 2 decimals"):
        parse_amount("1.005", "EUR")
    assert parse_amount("12,5", "EUR") == D("12.50")


def test_custom_amount_up_to_what_is_still_refundable(euro_order):
    Order.objects.filter(pk=euro_order.pk).update(refunded_total=D("30.00"), refunding_total=D("29.99"))
    euro_order.refresh_from_db()
    assert refund_quote(euro_order, amount=D("33.00")).remaining == D("0.00")
    with pytest.raises(OrderActionError, match=r"At most 33\.00\xa0EUR can still be refunded, not 33\.01\xa0EUR"):
        refund_quote(euro_order, amount=D("33.01"))
    with pytest.raises(OrderActionError, match="more than zero"):
        refund_quote(euro_order, amount=D("0"))


def test_all_tickets_after_a_custom_refund_is_capped_at_what_is_left(euro_order):
    Order.objects.filter(pk=euro_order.pk).update(refunded_total=D("80.00"))
    euro_order.refresh_from_db()
    assert refund_quote(euro_order, all_tickets=True).amount == D("12.99")
    with pytest.raises(OrderActionError, match="more than the 12.99\xa0EUR still refundable"):
        refund_quote(euro_order, tickets=_ids(euro_order)[:1])


def test_refunded_and_foreign_tickets_are_refused(euro_order, make_order):
    first, second, third = _ids(euro_order)
    Ticket.objects.filter(public_id=first).update(status="invalid", invalid_reason="refunded")
    with pytest.raises(OrderActionError, match=f"Already {first} invalid · refunded"):
        refund_quote(euro_order, tickets=[first, second])
    other = _ids(make_order())[0]
    with pytest.raises(OrderActionError, match=f"Not a ticket of order {euro_order.code}: {other}"):
        refund_quote(euro_order, tickets=[other])
    quote = refund_quote(euro_order, all_tickets=True)
    assert [s.ticket.public_id for s in quote.tickets] == [second, third]
    assert quote.amount == D("59.99")


def test_exactly_one_kind_of_refund(euro_order):
    with pytest.raises(OrderActionError, match="Choose what to refund"):
        refund_quote(euro_order)
    with pytest.raises(OrderActionError, match="Choose what to refund"):
        refund_quote(euro_order, all_tickets=True, amount=D("1"))


def test_nothing_refundable_left(euro_order):
    Order.objects.filter(pk=euro_order.pk).update(refunded_total=D("92.99"))
    euro_order.refresh_from_db()
    with pytest.raises(OrderActionError, match="Nothing is left to refund"):
        refund_quote(euro_order, amount=D("1"))


def test_two_lines_each_split_on_its_own(organisation, event, make_order):
    from orders.services import (
        LineRequest,
        order_create,
        order_mark_confirming_payment,
        order_mark_paid,
        order_start_payment,
    )

    a = TicketTypeFactory(event=event, name="Day", price=D("10.01"), booking_fee=D("0.50"), tax_rate=D("7"))
    b = TicketTypeFactory(event=event, name="VIP", price=D("99.00"), booking_fee=D("2.00"), tax_rate=D("19"))
    order = order_create(
        event=event, contact_name="Jo", contact_email="jo@example.com", lines=[LineRequest(a, 2), LineRequest(b, 1)]
    )
    order_start_payment(order=order, provider="manual")
    order_mark_confirming_payment(order=order)
    order = order_mark_paid(order=order)
    shares = ticket_shares(order)
    # Day: 20.02 → 10.01 × 2, tax 20.02 × 7 / 107 = 1.3097… → 1.31 → 0.66 + 0.65; VIP: 99.00, tax 15.81.
    assert [(s.price, s.tax) for s in shares] == [
        (D("10.01"), D("0.66")),
        (D("10.01"), D("0.65")),
        (D("99.00"), D("15.81")),
    ]
    quote = refund_quote(order, tickets=[shares[1].ticket.public_id, shares[2].ticket.public_id])
    assert (quote.amount, quote.tax, quote.booking_fee_kept) == (D("109.01"), D("16.46"), D("2.50"))
