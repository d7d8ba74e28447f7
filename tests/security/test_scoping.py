"""Every page of the search, guest list, customer and order views: another organisation's or region's object is a 404,
and an anonymous visitor is sent to log in."""

import pytest
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def target(organisation, make_order):
    """An order (with customer account, ticket and event) in the south region of `organisation`."""
    south = RegionFactory(organisation=organisation, name="South")
    event = EventFactory(organisation=organisation, region=south)
    customer = CustomerFactory(organisation=organisation, email="anna@example.com")
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event), customer=customer)
    return order


def urls_for(order: Order, org_slug: str) -> dict[str, str]:
    org = {"org": org_slug}
    return {
        "event_guests": reverse("event_guests", kwargs={**org, "event_id": order.event.public_id}),
        "customer_detail": reverse("customer_detail", kwargs={**org, "customer_id": order.customer_id}),
        "order_detail": reverse("order_detail", kwargs={**org, "code": order.code}),
        "ticket_scans": reverse(
            "ticket_scans", kwargs={**org, "code": order.code, "ticket_id": order.tickets.get().public_id}
        ),
    }


def test_member_of_the_organisation_reaches_every_page(client, member, target):
    client.force_login(member(Role.VIEWER))
    for name, url in urls_for(target, target.organisation.slug).items():
        assert client.get(url).status_code == 200, name
    assert client.get(reverse("search", kwargs={"org": target.organisation.slug}), {"q": "anna"}).status_code == 200


def test_anonymous_is_sent_to_log_in(client, target):
    urls = urls_for(target, target.organisation.slug)
    urls["search"] = reverse("search", kwargs={"org": target.organisation.slug})
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name


def test_another_organisations_member_gets_404_everywhere(client, target, other_organisation):
    client.force_login(MembershipFactory(organisation=other_organisation, role=Role.OWNER).user)
    for name, url in urls_for(target, target.organisation.slug).items():
        assert client.get(url).status_code == 404, name
    assert client.get(reverse("search", kwargs={"org": target.organisation.slug}), {"q": "anna"}).status_code == 404


def test_objects_of_another_organisation_under_ones_own_slug_are_404(client, target, other_organisation):
    """A member of both organisations, browsing organisation B with A's order code, event ID, customer and ticket."""
    user = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    MembershipFactory(user=user, organisation=target.organisation, role=Role.VIEWER)
    client.force_login(user)
    for name, url in urls_for(target, other_organisation.slug).items():
        assert client.get(url).status_code == 404, name
    search = client.get(reverse("search", kwargs={"org": other_organisation.slug}), {"q": target.code})
    assert search.status_code == 200 and f"/orders/{target.code}/" not in search.content.decode()


def test_region_limited_member_gets_404_for_other_regions(client, target, organisation):
    north = RegionFactory(organisation=organisation, name="North")
    client.force_login(MembershipFactory(organisation=organisation, role=Role.OWNER, regions=[north]).user)
    for name, url in urls_for(target, organisation.slug).items():
        assert client.get(url).status_code == 404, name
    search = client.get(reverse("search", kwargs={"org": organisation.slug}), {"q": "anna@example.com"})
    assert f"/orders/{target.code}/" not in search.content.decode()
