"""The region chosen in the header narrows every list and the search, and never widens a region-limited member."""

import pytest
from django.urls import reverse

from guests.models import Customer
from organiser_portal.models import Membership
from organiser_portal.permissions import REGION_SESSION_KEY
from tests.factories import CustomerFactory, EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def world(organisation, make_order):
    """An order and a customer account in North, in South and at an event without a region."""
    north, south = (
        RegionFactory(organisation=organisation, name="North"),
        RegionFactory(organisation=organisation, name="South"),
    )
    made = {}
    for key, region in (("north", north), ("south", south), ("none", None)):
        event = EventFactory(organisation=organisation, region=region, name=f"{key.title()} Fest")
        customer = CustomerFactory(
            organisation=organisation, name=f"Kunde {key.title()}", email=f"kunde.{key}@example.com"
        )
        order = make_order(
            event=event,
            ticket_type=TicketTypeFactory(event=event),
            contact_name=f"Gast {key.title()}",
            contact_email=f"gast.{key}@example.com",
            customer=customer,
        )
        made[key] = (event, order, customer)
    return {"regions": {"north": north, "south": south}, **made}


def choose(client, region) -> None:
    response = client.post(
        reverse("region_choose", kwargs={"org": "festival"}), {"region": region.pk if region else ""}
    )
    assert response.status_code == 302


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org": "festival", **kwargs})


def shown(page, world, kind: str) -> set[str]:
    """Which of the world's rows (by region key) a page shows, by the order's guest name or the account's name."""
    text = page.content.decode()
    label = "Gast" if kind == "order" else "Kunde"
    return {key for key in ("north", "south", "none") if f"{label} {key.title()}" in text}


def test_the_orders_list_honours_the_region(client, member, world):
    client.force_login(member(Role.SUPPORT))
    assert shown(client.get(url("orders")), world, "order") == {"north", "south", "none"}
    choose(client, world["regions"]["north"])
    assert shown(client.get(url("orders")), world, "order") == {"north"}


def test_the_customers_list_and_its_search_honour_the_region(client, member, world):
    client.force_login(member(Role.SUPPORT))
    choose(client, world["regions"]["south"])
    assert shown(client.get(url("customers")), world, "customer") == {"south"}
    assert shown(client.get(url("customers"), {"q": "kunde"}), world, "customer") == {"south"}


def test_the_search_honours_the_region(client, member, world):
    client.force_login(member(Role.SUPPORT))
    assert shown(client.get(url("search"), {"q": "gast"}), world, "order") == {"north", "south", "none"}
    choose(client, world["regions"]["north"])
    page = client.get(url("search"), {"q": "gast"})
    assert shown(page, world, "order") == {"north"}
    assert shown(client.get(url("search"), {"q": "kunde"}), world, "customer") == {"north"}
    assert "Events in North only" in page.content.decode()


def test_an_exact_order_code_still_opens_its_order_outside_the_region(client, member, world):
    client.force_login(member(Role.SUPPORT))
    choose(client, world["regions"]["north"])
    south_order = world["south"][1]
    response = client.get(url("search"), {"q": south_order.code})
    assert response.status_code == 302 and response.url == url("order_detail", code=south_order.code)
    assert client.get(response.url).status_code == 200


def test_the_guest_lists_honour_the_region(client, member, world):
    client.force_login(member(Role.SUPPORT))
    choose(client, world["regions"]["north"])
    north_event, north_order, _ = world["north"]
    south_event, south_order, _ = world["south"]
    assert north_order.code in client.get(url("event_guests", event_id=north_event.public_id)).content.decode()
    # An event outside the region opens by its link, but its guests aren't listed: the page says why.
    page = client.get(url("event_guests", event_id=south_event.public_id))
    assert page.status_code == 200
    text = page.content.decode()
    assert south_order.code not in text and "Gast South" not in text
    assert "South Fest is in South; you chose to see North only" in text
    assert "Show all regions" in text


def test_my_events_honours_the_region(client, member, world):
    client.force_login(member(Role.VIEWER))
    choose(client, world["regions"]["south"])
    events = client.get(url("my_events")).context["events"]
    assert {event.name for event in events} == {"South Fest"}


def test_the_choice_cannot_widen_a_region_limited_member(client, organisation, world):
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[world["regions"]["north"]]).user
    client.force_login(user)
    refused = client.post(url("region_choose"), {"region": world["regions"]["south"].pk})
    assert refused.status_code == 400
    # Even a session that names South (stale, or forged) shows nothing of it.
    session = client.session
    session[REGION_SESSION_KEY] = {"festival": [world["regions"]["south"].pk, "South"]}
    session.save()
    assert shown(client.get(url("orders")), world, "order") == {"north"}
    assert shown(client.get(url("customers")), world, "customer") == {"north"}
    assert shown(client.get(url("search"), {"q": "gast"}), world, "order") == {"north"}
    assert {e.name for e in client.get(url("my_events")).context["events"]} == {"North Fest"}
    south_event, south_order, south_customer = world["south"]
    assert client.get(url("event_guests", event_id=south_event.public_id)).status_code == 404
    assert client.get(url("order_detail", code=south_order.code)).status_code == 404
    assert client.get(url("customer_detail", customer_id=south_customer.pk)).status_code == 404
    assert "Region:" not in client.get(url("orders")).content.decode()  # one region: nothing to choose


def test_the_customer_page_shows_all_the_accounts_orders_the_membership_allows(client, member, world, make_order):
    client.force_login(member(Role.SUPPORT))
    choose(client, world["regions"]["north"])
    customer = Customer.objects.get(name="Kunde South")
    assert client.get(url("customer_detail", customer_id=customer.pk)).status_code == 200


def test_an_empty_search_in_a_region_never_says_the_purchase_did_not_go_through(client, member, world):
    client.force_login(member(Role.SUPPORT))
    choose(client, world["regions"]["north"])
    text = client.get(url("search"), {"q": "gast.south@example.com"}).content.decode()
    assert "did not go through" not in text
    assert "Your region choice hides the orders of other regions" in text and "Search all regions" in text
    # One click searches every region again, for the same words.
    back = client.post(url("region_choose"), {"region": "", "next": url("search") + "?q=gast.south%40example.com"})
    assert "Gast South" in client.get(back.url).content.decode()
