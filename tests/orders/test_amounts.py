"""An order's amounts are rounded half up to its currency's minor unit, and its page shows that currency's decimals."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.services import LineRequest, order_create
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db


def _order(organisation, *, currency, price, discount_percent, tax_rate, fee="0"):
    event = EventFactory(organisation=organisation, currency=currency)
    ticket_type = TicketTypeFactory(
        event=event, price=Decimal(price), booking_fee=Decimal(fee), tax_rate=Decimal(tax_rate)
    )
    return order_create(
        event=event,
        contact_name="Kenji Sato",
        contact_email="kenji@example.com",
        lines=[LineRequest(ticket_type, 1)],
        discount_percent=Decimal(discount_percent),
    )


def test_euro_discount_and_tax_round_half_up_to_the_cent(organisation):
    order = _order(organisation, currency="EUR", price="12.25", discount_percent="10", tax_rate="19", fee="0.50")
    line = order.lines.get()
    assert line.discount == Decimal("1.23")  # 1.225: half up, not to even
    assert line.tax == Decimal("1.76")  # 11.02 × 19 / 119 = 1.7595…
    assert order.total == Decimal("11.52")  # 12.25 − 1.23 + 0.50


def test_yen_discount_and_tax_are_whole_yen(organisation):
    order = _order(organisation, currency="JPY", price="1001", discount_percent="50", tax_rate="10")
    line = order.lines.get()
    assert line.discount == Decimal("501")  # 500.5 yen: half up
    assert line.tax == Decimal("45")  # 500 × 10 / 110 = 45.45…
    assert order.total == Decimal("500")


def test_yen_order_page_shows_no_decimals(client, organisation, member):
    order = _order(organisation, currency="JPY", price="1200", discount_percent="0", tax_rate="10")
    client.force_login(member(Membership.Role.VIEWER))
    page = client.get(reverse("order_detail", kwargs={"org": organisation.slug, "code": order.code})).content.decode()

    assert "1,200\xa0JPY" in page and "109\xa0JPY" in page  # the total and the tax, 1,200 × 10 / 110 = 109.09…
    assert ".00\xa0JPY" not in page
