"""The New order page: the form shows what each ticket type costs and has left, the review shows the total and
writes nothing, confirming makes one order however often it is posted, and refusals come back as form errors."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import MembershipFactory, OrganisationFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
D = Decimal


def text(response) -> str:
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", words)


@pytest.fixture
def types(event):
    return (
        TicketTypeFactory(event=event, name="Standing", price=D("40.00"), booking_fee=D("2.50"), capacity=3),
        TicketTypeFactory(event=event, name="Balcony", price=D("60.00"), booking_fee=D("0"), capacity=None),
    )


@pytest.fixture
def new_url(organisation, event):
    return reverse("order_new", kwargs={"org": organisation.slug, "event_id": event.public_id})


def filled(types, **changes) -> dict:
    standing, balcony = types
    data = {
        "idempotency_key": "key-1",
        "step": "review",
        f"quantity_{standing.pk}": "2",
        f"quantity_{balcony.pk}": "0",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@example.com",
        "contact_phone": "+44 20 7946 0958",
        "customer_email": "",
        "payment": "paid",
        "method": "Card",
        "reference": "Terminal 7",
        "note": "",
        "reason": "",
    }
    return {**data, **changes}


def test_the_form_shows_price_fee_and_what_is_left(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    page = text(client.get(new_url))
    assert "Standing 40.00 EUR + 2.50 EUR booking fee 3" in page
    assert "Balcony 60.00 EUR no limit" in page
    assert "Paid at the box office" in page
    assert "Complimentary: no charge" not in page  # a support agent sells; managers give away
    assert "given by managers and owners" in page


def test_the_guest_list_offers_new_order_to_those_who_may(client, member, organisation, event):
    guests = reverse("event_guests", kwargs={"org": organisation.slug, "event_id": event.public_id})
    client.force_login(member(Role.SUPPORT))
    assert "New order" in text(client.get(guests))
    client.force_login(member(Role.VIEWER))
    assert "New order" not in text(client.get(guests))


def test_review_shows_the_total_and_writes_nothing_then_confirm_creates(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    review = client.post(new_url, filled(types))
    page = text(review)
    assert review.status_code == 200
    assert "Confirm the order" in page
    assert "Total including taxes and booking fees 85.00 EUR" in page
    assert "Paid at the box office · Card · Terminal 7" in page
    assert "emailed to ada@example.com" in page
    assert Order.objects.count() == 0
    # The review carries every choice, so confirming posts the same form again.
    assert 'name="reference" value="Terminal 7"' in review.content.decode()

    done = client.post(new_url, filled(types, step="confirm"), follow=True)
    order = Order.objects.get()
    assert done.redirect_chain[-1][0].endswith(f"/orders/{order.code}/")
    assert f"Order {order.code} created and paid: 85.00 EUR. Tickets queued for ada@example.com." in text(done)
    assert (order.status, order.total, order.contact_phone) == ("paid", D("85.00"), "+44 20 7946 0958")


def test_a_double_submit_makes_one_order(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    first = client.post(new_url, filled(types, step="confirm"))
    second = client.post(new_url, filled(types, step="confirm"))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1


def test_capacity_gone_by_the_confirmation_is_a_form_error(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    assert "Confirm the order" in text(client.post(new_url, filled(types)))
    client.post(new_url, filled(types, idempotency_key="another-desk", step="confirm"))  # the other till was quicker
    response = client.post(new_url, filled(types, step="confirm"))
    assert response.status_code == 200
    assert "Only 1 ticket is left of 'Standing' (capacity 3)." in text(response)
    assert Order.objects.count() == 1


def sell_out_standing(client, types, new_url) -> None:
    """Another till sells the last 3 'Standing' tickets."""
    standing, _ = types
    client.post(
        new_url, filled(types, idempotency_key="other-till", step="confirm", **{f"quantity_{standing.pk}": "3"})
    )
    assert Order.objects.count() == 1


def test_a_sold_out_type_says_so_in_place_of_its_quantity(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    sell_out_standing(client, types, new_url)
    standing, balcony = types
    response = client.get(new_url)
    content = response.content.decode()
    assert f'name="quantity_{standing.pk}"' not in content  # nothing to fill in
    assert f'for="id_quantity_{standing.pk}"' not in content  # and no label pointing at a missing input
    assert f'name="quantity_{balcony.pk}"' in content
    assert "Standing 40.00 EUR + 2.50 EUR booking fee 0 Sold out" in text(response)
    assert "Balcony 60.00 EUR no limit" in text(response)


def test_a_quantity_posted_for_a_sold_out_type_is_refused(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    sell_out_standing(client, types, new_url)
    standing, _ = types
    for step in ("review", "confirm"):
        response = client.post(new_url, filled(types, step=step))
        page = text(response)
        assert response.status_code == 200
        assert "'Standing' is sold out (capacity 3)." in page
        assert "New order" in page and "Confirm the order" not in page
        assert f'name="quantity_{standing.pk}"' not in response.content.decode()
    assert Order.objects.count() == 1


def test_the_review_refuses_what_the_service_would(client, member, organisation, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    standing, _ = types
    page = text(client.post(new_url, filled(types, **{f"quantity_{standing.pk}": "4"})))
    assert "Only 3 tickets are left of 'Standing' (capacity 3)." in page
    page = text(client.post(new_url, filled(types, contact_phone="call me", customer_email="who@example.com")))
    assert "call me is not a phone number (for DE without a country code" in page
    page = text(client.post(new_url, filled(types, **{f"quantity_{standing.pk}": "0"}, method="")))
    assert "Choose at least one ticket." in page and "Choose how it was paid." in page
    page = text(client.post(new_url, filled(types, customer_email="who@example.com")))
    assert "No customer account has the email who@example.com" in page
    assert Order.objects.count() == 0


def test_a_manager_gives_tickets_away(client, member, event, types, new_url):
    client.force_login(member(Role.MANAGER))
    data = filled(types, payment="complimentary", reason="Press", method="")
    page = text(client.post(new_url, data))
    assert "Complimentary no charge, no booking fee · Press" in page
    assert "Total including taxes and booking fees 0.00 EUR" in page
    client.post(new_url, {**data, "step": "confirm"})
    order = Order.objects.get()
    assert order.complimentary and order.total == 0
    detail = text(client.get(reverse("order_detail", kwargs={"org": order.organisation.slug, "code": order.code})))
    assert "Paid · complimentary" in detail
    assert "Total Complimentary no charge, no booking fee" in detail


def test_a_support_agent_cannot_post_a_complimentary_order(client, member, event, types, new_url):
    client.force_login(member(Role.SUPPORT))
    page = text(client.post(new_url, filled(types, payment="complimentary", reason="Friend", step="confirm")))
    assert "Select a valid choice" in page
    assert Order.objects.count() == 0


def test_who_may_open_the_page(client, member, organisation, event, types, new_url):
    client.force_login(member(Role.VIEWER))
    response = client.get(new_url)
    assert response.status_code == 403 and "can't create box-office orders" in text(response)
    assert client.post(new_url, filled(types, step="confirm")).status_code == 403

    south = RegionFactory(organisation=organisation)
    event.region = RegionFactory(organisation=organisation)
    event.save()
    client.force_login(member(Role.MANAGER, regions=[south]))
    assert client.get(new_url).status_code == 404
    assert client.post(new_url, filled(types, step="confirm")).status_code == 404

    other = MembershipFactory(organisation=OrganisationFactory(), role=Role.OWNER).user
    client.force_login(other)
    assert client.get(new_url).status_code == 404
    assert Order.objects.count() == 0
