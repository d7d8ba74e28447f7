"""A phone number reads the same on every page that shows it: the international form, read in the event's (or the
organisation's) country; a number that doesn't parse as it was typed. What is stored and what search finds stay as
typed."""

import html
import re

import pytest
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HX-Request": "true"}
SHOWN = "+49 1512 3456789"


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def order_url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


@pytest.fixture
def agent(client, member):
    client.force_login(member(Role.MANAGER))
    return client


@pytest.mark.parametrize("typed", ["+49 151 23456789", "0151 23456789", "0151-234 567 89"])
def test_the_contact_card_and_the_sms_dialog_show_the_same_number(agent, make_order, typed):
    order = make_order(contact_phone=typed)
    page = text(agent.get(order_url("order_detail", order)))
    assert f"Phone {SHOWN}" in page
    dialog = text(agent.get(order_url("order_resend_sms", order), headers=HTMX))
    assert f"The order's phone: {SHOWN}" in dialog
    order.refresh_from_db()
    assert order.contact_phone == typed  # stored as typed


def test_a_number_that_does_not_parse_is_shown_as_typed(agent, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(contact_phone="ask at desk 3")  # imported before numbers were checked
    assert "Phone ask at desk 3" in text(agent.get(order_url("order_detail", order)))


def test_the_customer_page_and_search_show_the_number_in_the_same_form(agent, organisation):
    customer = CustomerFactory(organisation=organisation, name="Jonas Weber", phone="0151 23456789")
    page = text(agent.get(reverse("customer_detail", kwargs={"org": organisation.slug, "customer_id": customer.pk})))
    assert f"Phone {SHOWN}" in page
    for query in ("0151 23456789", "+4915123456789", "Jonas"):  # found however it is typed
        results = text(agent.get(reverse("search", kwargs={"org": organisation.slug}), {"q": query}))
        assert f"Jonas Weber {customer.email} {SHOWN}" in results


def test_the_box_office_review_shows_the_number_as_the_order_page_will(agent, organisation, event):
    standing = TicketTypeFactory(event=event, name="Standing")
    data = {
        "idempotency_key": "key-1",
        "step": "review",
        f"quantity_{standing.pk}": "1",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@example.com",
        "contact_phone": "0151 99887766",
        "customer_email": "",
        "payment": "paid",
        "method": "Card",
        "reference": "",
        "note": "",
        "reason": "",
    }
    review = text(
        agent.post(reverse("order_new", kwargs={"org": organisation.slug, "event_id": event.public_id}), data)
    )
    assert "Confirm the order" in review and "· +49 1519 9887766" in review
