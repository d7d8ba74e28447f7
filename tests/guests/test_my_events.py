"""My events shows each user exactly the events their membership and regions allow; other organisations are 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership, Region

from ..factories import EventFactory, MembershipFactory, OrganisationFactory, TicketTypeFactory, UserFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def world(organisation, other_organisation):
    north = Region.objects.create(organisation=organisation, name="North")
    south = Region.objects.create(organisation=organisation, name="South")
    events = {
        "north": EventFactory(organisation=organisation, region=north, name="North Fest"),
        "south": EventFactory(organisation=organisation, region=south, name="South Fest"),
        "none": EventFactory(organisation=organisation, region=None, name="Regionless Gala"),
        "other": EventFactory(organisation=other_organisation, name="Other Org Concert"),
    }
    return {"north": north, "south": south, "events": events}


def _shown(client, user, slug="festival"):
    client.force_login(user)
    response = client.get(reverse("my_events", kwargs={"org": slug}))
    assert response.status_code == 200
    return {event.name for event in response.context["events"]}


@pytest.mark.parametrize("role", Role.values)
def test_a_member_without_region_limit_sees_every_event_of_their_organisation(client, member, world, role):
    assert _shown(client, member(role)) == {"North Fest", "South Fest", "Regionless Gala"}


def test_a_region_limited_member_sees_only_their_regions_events(client, organisation, world):
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[world["north"]]).user
    assert _shown(client, user) == {"North Fest"}
    client.force_login(user)
    page = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert "South Fest" not in page.content.decode()


def test_the_region_choice_cannot_widen_a_limited_member(client, organisation, world):
    user = MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[world["north"]]).user
    client.force_login(user)
    choose = client.post(reverse("region_choose", kwargs={"org": "festival"}), {"region": world["south"].pk})
    assert choose.status_code == 400
    response = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert {e.name for e in response.context["events"]} == {"North Fest"}


def test_an_unlimited_member_can_choose_a_region(client, member, world):
    client.force_login(member(Role.MANAGER))
    client.post(reverse("region_choose", kwargs={"org": "festival"}), {"region": world["south"].pk})
    response = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert {e.name for e in response.context["events"]} == {"South Fest"}


def test_the_counts_link_to_the_guest_list_filtered_that_way(client, member, world, make_order):
    event = world["events"]["north"]
    bounced = make_order(event=event, ticket_type=TicketTypeFactory(event=event), contact_name="Bounced Guest")
    held = make_order(event=event, ticket_type=TicketTypeFactory(event=event), contact_name="Held Guest")
    make_order(event=event, ticket_type=TicketTypeFactory(event=event), contact_name="Fine Guest")
    Order.objects.filter(pk=bounced.pk).update(email_status="bounced")
    Order.objects.filter(pk=held.pk).update(tickets_held=True)
    client.force_login(member(Role.SUPPORT))
    page = client.get(reverse("my_events", kwargs={"org": "festival"})).content.decode()
    guests = reverse("event_guests", kwargs={"org": "festival", "event_id": event.public_id})
    assert f'href="{guests}?email_status=bounced"' in page and f'href="{guests}?held=on"' in page
    bounced_list = client.get(guests, {"email_status": "bounced"}).content.decode()
    assert "Bounced Guest" in bounced_list and "Held Guest" not in bounced_list and "Fine Guest" not in bounced_list
    held_list = client.get(guests, {"held": "on"}).content.decode()
    assert "Held Guest" in held_list and "Bounced Guest" not in held_list and "Fine Guest" not in held_list
    # A zero is no link: nothing to show.
    south_guests = reverse("event_guests", kwargs={"org": "festival", "event_id": world["events"]["south"].public_id})
    assert f'href="{south_guests}?email_status=bounced"' not in page


def test_another_organisation_is_a_404(client, member, world):
    client.force_login(member(Role.OWNER))
    assert client.get(reverse("my_events", kwargs={"org": "other"})).status_code == 404
    assert client.get(reverse("my_events", kwargs={"org": "no-such-org"})).status_code == 404


def test_login_is_required(client, world):
    response = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_superuser_sees_every_event(client, superuser, world):
    assert _shown(client, superuser) == {"North Fest", "South Fest", "Regionless Gala"}
    assert _shown(client, superuser, "other") == {"Other Org Concert"}


def test_the_organisation_switcher_lists_only_the_users_organisations(client, organisation, other_organisation):
    third = OrganisationFactory(name="Third Org", slug="third")
    user = UserFactory(username="two-orgs@example.com")
    MembershipFactory(user=user, organisation=organisation, role=Role.VIEWER)
    MembershipFactory(user=user, organisation=third, role=Role.OWNER)
    client.force_login(user)
    response = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert set(response.context["switchable_organisations"]) == {organisation, third}
    html = response.content.decode()
    assert reverse("my_events", kwargs={"org": "third"}) in html
    assert reverse("my_events", kwargs={"org": "other"}) not in html


def test_a_single_organisation_user_gets_no_switcher(client, member):
    client.force_login(member(Role.SUPPORT))
    response = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert "switcher" not in response.content.decode()


def test_a_single_organisation_user_costs_no_switcher_query(client, member):
    client.force_login(member(Role.SUPPORT))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert not [q for q in queries if q["sql"].startswith('SELECT "organiser_portal_organisation"')]


def test_the_dashboard_sends_a_user_to_their_organisation(client, member):
    client.force_login(member(Role.VIEWER))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("my_events", kwargs={"org": "festival"})


def test_my_events_counts_orders_tickets_and_held(client, member, event, make_order):
    make_order(quantity=3)
    client.force_login(member(Role.VIEWER))
    response = client.get(reverse("my_events", kwargs={"org": "festival"}))
    row = next(e for e in response.context["events"] if e.pk == event.pk)
    assert (row.order_count, row.ticket_count, row.held_count) == (1, 3, 0)
