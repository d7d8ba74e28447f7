"""The setup pages: who may open them, another organisation's or region's objects (404), form errors that change
nothing (400), refusals with their reason (409), double submits, and where the pages are linked from."""

from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.models import OutgoingMessage
from organiser_portal.models import Event, Membership, TicketType
from setup.models import AuditEntry
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def url(name: str, organisation, **kwargs) -> str:
    return reverse(name, kwargs={"org": organisation.slug, **kwargs})


def event_post(**changes) -> dict:
    data = {
        "idempotency_key": "form-1",
        "name": "Winter Gala",
        "venue": "Opera",
        "starts_at": "2027-01-15T19:30",
        "ends_at": "2027-01-15T23:00",
        "time_zone": "Europe/Vienna",
        "currency": "EUR",
        "country": "at",
        "region": "",
        "send_tickets_automatically": "on",
        "guest_checkout": "on",
    }
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


# --- Who may open what -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["team", "settings_events", "regions", "event_new", "settings_home"])
def test_viewers_and_support_agents_are_refused_with_the_reason(client, organisation, member, name):
    client.force_login(member(Role.SUPPORT))
    response = client.get(url(name, organisation))
    assert response.status_code == 403 and b"Your role (Support agent) can&#x27;t" in response.content


def test_a_manager_reads_the_team_and_an_owner_changes_it(client, organisation, owner, manager):
    client.force_login(manager)
    page = client.get(url("team", organisation))
    assert page.status_code == 200 and b"Olga Owner" in page.content
    assert b"Invite a member" not in page.content and b">Edit<" not in page.content
    assert client.post(url("team", organisation), {"email": "x@example.com", "role": "viewer"}).status_code == 403
    assert client.get(url("regions", organisation)).status_code == 403
    client.force_login(owner)
    page = client.get(url("team", organisation))
    assert b"Invite a member" in page.content and b">Edit<" in page.content


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("team", {}),
        ("regions", {}),
        ("settings_events", {}),
        ("event_new", {}),
        ("settings_home", {}),
    ],
)
def test_another_organisations_pages_are_404(client, other_organisation, owner, name, kwargs):
    client.force_login(owner)
    assert client.get(url(name, other_organisation, **kwargs)).status_code == 404


def test_another_organisations_objects_are_404_through_this_organisation(
    client, organisation, other_organisation, owner
):
    client.force_login(owner)
    member = MembershipFactory(organisation=other_organisation)
    region = RegionFactory(organisation=other_organisation)
    event = EventFactory(organisation=other_organisation)
    ticket_type = TicketTypeFactory(event=event)
    for name, kwargs in [
        ("member_edit", {"membership_id": member.pk}),
        ("member_remove", {"membership_id": member.pk}),
        ("member_resend", {"membership_id": member.pk}),
        ("region_edit", {"region_id": region.pk}),
        ("region_remove", {"region_id": region.pk}),
        ("event_settings", {"event_id": event.public_id}),
        ("ticket_type_new", {"event_id": event.public_id}),
        ("ticket_type_edit", {"event_id": event.public_id, "ticket_type_id": ticket_type.pk}),
        ("ticket_type_remove", {"event_id": event.public_id, "ticket_type_id": ticket_type.pk}),
    ]:
        assert client.get(url(name, organisation, **kwargs)).status_code == 404, name
        assert client.post(url(name, organisation, **kwargs), {"name": "x", "role": "owner"}).status_code == 404, name
    assert Membership.objects.filter(pk=member.pk).exists() and TicketType.objects.filter(pk=ticket_type.pk).exists()


def test_a_region_limited_manager_gets_404_outside_their_regions(client, organisation):
    hamburg, berlin = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    in_hamburg = EventFactory(organisation=organisation, region=hamburg, name="Harbour Days")
    in_berlin = EventFactory(organisation=organisation, region=berlin, name="Berlin Night")
    ticket_type = TicketTypeFactory(event=in_berlin)
    client.force_login(MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[hamburg]).user)
    listed = client.get(url("settings_events", organisation))
    assert b"Harbour Days" in listed.content and b"Berlin Night" not in listed.content
    assert client.get(url("event_settings", organisation, event_id=in_hamburg.public_id)).status_code == 200
    for name, kwargs in [
        ("event_settings", {"event_id": in_berlin.public_id}),
        ("ticket_type_new", {"event_id": in_berlin.public_id}),
        ("ticket_type_edit", {"event_id": in_berlin.public_id, "ticket_type_id": ticket_type.pk}),
    ]:
        assert client.get(url(name, organisation, **kwargs)).status_code == 404, name
    # A new event must be in one of their regions: "No region" isn't offered, and Berlin is a form error.
    page = client.get(url("event_new", organisation))
    region_options = page.content.decode().split('id="id_region"')[1].split("</select>")[0]
    assert hamburg.name in region_options and berlin.name not in region_options and "No region" not in region_options
    refused = client.post(url("event_new", organisation), event_post(region=str(berlin.pk)))
    assert refused.status_code == 400 and not Event.objects.filter(name="Winter Gala").exists()


def test_the_header_and_the_event_tabs_link_settings_for_managers_only(client, organisation, event, member):
    client.force_login(member(Role.SUPPORT))
    page = client.get(url("event_guests", organisation, event_id=event.public_id))
    assert url("settings_home", organisation).encode() not in page.content
    assert url("event_settings", organisation, event_id=event.public_id).encode() not in page.content
    client.force_login(member(Role.MANAGER))
    page = client.get(url("event_guests", organisation, event_id=event.public_id))
    assert url("settings_home", organisation).encode() in page.content
    assert url("event_settings", organisation, event_id=event.public_id).encode() in page.content
    assert client.get(url("settings_home", organisation))["Location"] == url("settings_events", organisation)


# --- Team -------------------------------------------------------------------------------------------------


def test_inviting_from_the_team_page(client, organisation, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    bad = client.post(url("team", organisation), {"email": "not an address", "role": "support"})
    assert bad.status_code == 400 and not OutgoingMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url("team", organisation), {"email": "kai@example.com", "role": "support"})
        again = client.post(url("team", organisation), {"email": "kai@example.com", "role": "support"})
    assert response.status_code == again.status_code == 302
    assert OutgoingMessage.objects.filter(kind="member_invitation").count() == 1
    page = client.get(url("team", organisation)).content.decode()
    assert "kai@example.com is in the team already: nothing changed." in page
    assert "Invited · no password yet" in page and "Invited kai@example.com as Support agent" in page


def test_the_last_owner_is_refused_on_the_pages_with_the_reason(client, organisation, owner):
    client.force_login(owner)
    membership = owner.memberships.get()
    demote = client.post(url("member_edit", organisation, membership_id=membership.pk), {"role": "manager"})
    assert demote.status_code == 409 and b"only owner and can&#x27;t be made manager" in demote.content
    remove = client.post(url("member_remove", organisation, membership_id=membership.pk))
    assert remove.status_code == 409 and b"only owner and can&#x27;t be removed" in remove.content
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_changing_a_role_and_regions_on_the_member_page(client, organisation, owner, member):
    agent = member(Role.SUPPORT).memberships.get()
    hamburg = RegionFactory(organisation=organisation, name="Hamburg")
    client.force_login(owner)
    response = client.post(
        url("member_edit", organisation, membership_id=agent.pk),
        {"role": "manager", "region_limited": "1", "regions": [str(hamburg.pk)]},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.MANAGER and list(agent.regions.all()) == [hamburg]
    removed = client.post(url("member_remove", organisation, membership_id=agent.pk))
    assert removed.status_code == 302 and not Membership.objects.filter(pk=agent.pk).exists()
    audit = client.get(url("team", organisation)).content.decode()
    assert "Support agent → Manager" in audit and "Removed" in audit


# --- Events and ticket types ------------------------------------------------------------------------------


def test_new_event_once_per_form_in_its_own_time_zone(client, organisation, manager):
    client.force_login(manager)
    response = client.post(url("event_new", organisation), event_post())
    again = client.post(url("event_new", organisation), event_post())
    event = Event.objects.get()
    assert response["Location"] == again["Location"] == url("event_settings", organisation, event_id=event.public_id)
    assert event.starts_at.isoformat() == "2027-01-15T18:30:00+00:00" and event.country == "AT"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"time_zone": "Europe/Atlantis"}, b"Select a valid choice"),
        ({"currency": "XYZ"}, b"Select a valid choice"),
        ({"country": "ZZ"}, b"ZZ is not a country code"),
        ({"ends_at": "2027-01-15T18:00"}, b"The event can&#x27;t end before it starts."),
        ({"starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T05:00"}, b"the clocks skip it"),
        ({"name": ""}, b"This field is required"),
    ],
)
def test_bad_event_input_is_a_form_error_and_changes_nothing(client, organisation, manager, changes, error):
    client.force_login(manager)
    response = client.post(url("event_new", organisation), event_post(**changes))
    assert response.status_code == 400 and error in response.content
    assert not Event.objects.exists()


def test_switch_send_tickets_automatically_off_on_the_settings_tab(client, organisation, manager, event):
    event.starts_at, event.ends_at = (t.replace(second=0, microsecond=0) for t in (event.starts_at, event.ends_at))
    event.save()
    client.force_login(manager)
    settings_url = url("event_settings", organisation, event_id=event.public_id)
    page = client.get(settings_url)
    assert page.status_code == 200 and b'aria-current="page">Settings</a>' in page.content
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["starts_at"] = form["starts_at"].value().strftime("%Y-%m-%dT%H:%M")
    data["ends_at"] = form["ends_at"].value().strftime("%Y-%m-%dT%H:%M")
    data.pop("send_tickets_automatically")  # the checkbox unticked
    data = {key: value for key, value in data.items() if value not in (None, False)}
    response = client.post(settings_url, data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert not event.send_tickets_automatically and event.guest_checkout
    page = client.get(settings_url).content.decode()
    assert "Switched “send tickets automatically” off" in page and "Tickets are held for review" in page
    assert AuditEntry.objects.filter(event=event).count() == 1  # the start and end came back unchanged


def test_ticket_type_pages(client, organisation, manager, make_order, ticket_type, event):
    client.force_login(manager)
    new_url = url("ticket_type_new", organisation, event_id=event.public_id)
    jpy = EventFactory(organisation=organisation, currency="JPY")
    bad = client.post(
        url("ticket_type_new", organisation, event_id=jpy.public_id),
        {"idempotency_key": "k", "name": "Floor", "price": "5000.5", "booking_fee": "0", "tax_rate": "10"},
    )
    assert bad.status_code == 400 and b"JPY amounts have no decimals." in bad.content
    data = {
        "idempotency_key": "k2",
        "name": "VIP",
        "price": "99.90",
        "booking_fee": "1.50",
        "tax_rate": "19",
        "capacity": "50",
    }
    assert client.post(new_url, data).status_code == 302
    assert client.post(new_url, data).status_code == 302  # the double submit
    assert TicketType.objects.filter(event=event, name="VIP", price=Decimal("99.90")).count() == 1
    make_order(quantity=3)
    edit_url = url("ticket_type_edit", organisation, event_id=event.public_id, ticket_type_id=ticket_type.pk)
    lowered = client.post(
        edit_url,
        {
            "idempotency_key": "k3",
            "name": "General admission",
            "price": "50",
            "booking_fee": "2.5",
            "tax_rate": "19",
            "capacity": "2",
        },
    )
    assert lowered.status_code == 409 and b"3 tickets are sold" in lowered.content
    removed = client.post(
        url("ticket_type_remove", organisation, event_id=event.public_id, ticket_type_id=ticket_type.pk)
    )
    assert removed.status_code == 409 and b"an order has it" in removed.content
    page = client.get(url("event_settings", organisation, event_id=event.public_id)).content.decode()
    assert "3 / no limit" in page and "Added the ticket type VIP" in page
