"""The Door tab: managers add access areas, points and scanner devices (token shown once) and revoke them;
support can't; another organisation's or region's event is a 404. The scan log is read by every role."""

import json

import pytest
from django.urls import reverse

from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory
from tickets.door import DoorError, door_area_save, door_device_add
from tickets.models import AccessArea, AccessPoint, Scan, ScannerDevice, token_hash

pytestmark = pytest.mark.django_db
Role = Membership.Role


def url(name, event, **kwargs):
    return reverse(name, kwargs={"org": event.organisation.slug, "event_id": event.public_id, **kwargs})


@pytest.fixture
def manager(client, member):
    user = member(Role.MANAGER)
    client.force_login(user)
    return user


def test_the_door_tab_shows_areas_points_and_devices(client, manager, event, entrance, device):
    page = client.get(url("event_door", event)).content.decode()
    assert '<a class="nav-link active" href="/o/festival/events/' in page and ">Door</a>" in page
    assert "Main entrance" in page and "Gate A1" in page and "Gate A2" in page
    assert "every ticket type" in page and f"…{device.token_hint}" in page and "Yes, revoke Gate A" in page


def test_an_id_too_big_for_the_database_is_404(client, manager, event):
    huge = 10**30
    assert client.post(url("door_device_change", event, device_id=huge), {"revoke": "1"}).status_code == 404
    assert client.post(url("door_point", event, area_id=huge), {"name": "X"}).status_code == 404
    assert (
        client.post(url("door_area", event), {"area": str(huge), "name": "X", "all_ticket_types": "1"}).status_code
        == 404
    )


def test_a_manager_adds_an_area_admitting_some_ticket_types_and_a_double_submit_adds_it_once(client, manager, event):
    vip = TicketTypeFactory(event=event, name="VIP pass")
    TicketTypeFactory(event=event, name="Day ticket")
    body = {"name": "  VIP   lounge ", "all_ticket_types": "", "ticket_types": [vip.pk]}
    for _ in range(2):
        response = client.post(url("door_area", event), body)
        assert response.status_code == 302 and response["Location"] == url("event_door", event)
    area = AccessArea.objects.get(event=event)
    assert area.name == "VIP lounge" and not area.all_ticket_types and list(area.ticket_types.all()) == [vip]
    page = client.get(url("event_door", event)).content.decode()
    assert "Access area VIP lounge saved." in page and "Admits: VIP pass" in page


def test_an_area_admitting_nobody_is_refused_and_nothing_saved(client, manager, event):
    response = client.post(url("door_area", event), {"name": "Backstage", "all_ticket_types": ""})
    assert response.status_code == 400
    assert "Choose the ticket types this area admits" in response.content.decode()
    assert not AccessArea.objects.exists()


def test_a_manager_changes_an_area_and_adds_a_point(client, manager, event, entrance):
    crew = TicketTypeFactory(event=event, name="Crew")
    body = {"area": entrance.pk, "name": "Backstage", "all_ticket_types": "", "ticket_types": [crew.pk]}
    assert client.post(url("door_area", event), body).status_code == 302
    entrance.refresh_from_db()
    assert entrance.name == "Backstage" and list(entrance.ticket_types.all()) == [crew]
    for _ in range(2):
        assert client.post(url("door_point", event, area_id=entrance.pk), {"name": "Stage door"}).status_code == 302
    assert list(entrance.points.values_list("name", flat=True)) == ["Stage door"]


def test_a_device_is_created_with_its_token_shown_once_and_works_at_the_door(client, manager, event, gate_a1, ticket):
    response = client.post(url("door_device", event), {"name": "Gate B", "access_point": gate_a1.pk})
    assert response.status_code == 200
    device = ScannerDevice.objects.get(name="Gate B")
    page = response.content.decode()
    token = page.split('<code class="user-select-all text-break fs-6">')[1].split("<")[0]
    assert device.token_hash == token_hash(token) and token not in device.token_hash
    assert device.event == event and device.access_point == gate_a1
    assert token not in client.get(url("event_door", event)).content.decode()  # shown this once
    # Never carried in a cookie (the messages framework keeps its texts in one) or the session (issue 16).
    assert all(token not in morsel.value for morsel in response.cookies.values())
    assert all(token not in morsel.value for morsel in client.cookies.values())
    assert all(token not in str(value) for value in client.session.values())

    answer = client.post(
        "/api/v1/check-ins/",
        json.dumps({"code": ticket.secret}),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert answer["result"] == "admitted" and Scan.objects.get().point == gate_a1

    again = client.post(url("door_device", event), {"name": "gate b"})
    assert again.status_code == 400 and "has a scanner device named gate b already" in again.content.decode()
    assert ScannerDevice.objects.filter(event=event).count() == 1


def test_a_manager_moves_and_revokes_a_device(client, manager, event, device, token, ticket, entrance):
    gate_a2 = AccessPoint.objects.get(name="Gate A2")
    change = url("door_device_change", event, device_id=device.pk)
    assert client.post(change, {"access_point": gate_a2.pk}).status_code == 302
    device.refresh_from_db()
    assert device.access_point == gate_a2
    assert client.post(change, {"revoke": "1"}).status_code == 302
    assert client.post(change, {"revoke": "1"}).status_code == 302  # revoking twice changes nothing
    device.refresh_from_db()
    assert device.is_revoked
    response = client.post(
        "/api/v1/check-ins/",
        json.dumps({"code": ticket.secret}),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 401 and not Scan.objects.exists()


def test_another_events_access_point_is_refused(client, manager, organisation, event, device):
    winter = EventFactory(organisation=organisation)
    theirs = door_area_save(actor=manager, event=winter, name="Hall")
    point = AccessPoint.objects.create(organisation=organisation, area=theirs, name="Door 1")
    response = client.post(url("door_device_change", event, device_id=device.pk), {"access_point": point.pk})
    assert response.status_code == 400
    assert client.post(url("door_device", event), {"name": "X", "access_point": point.pk}).status_code == 400
    assert not ScannerDevice.objects.filter(name="X").exists()


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.VIEWER])
def test_support_and_viewers_may_not_set_up_the_door(client, member, event, entrance, device, role):
    client.force_login(member(role))
    assert client.get(url("event_door", event)).status_code == 403
    assert client.post(url("door_area", event), {"name": "VIP", "all_ticket_types": "1"}).status_code == 403
    assert client.post(url("door_device", event), {"name": "Gate Z"}).status_code == 403
    assert client.post(url("door_device_change", event, device_id=device.pk), {"revoke": "1"}).status_code == 403
    assert AccessArea.objects.count() == 1 and ScannerDevice.objects.count() == 1 and not device.is_revoked
    page = client.get(url("event_scans", event)).content.decode()
    assert ">Scan log</a>" in page and ">Door</a>" not in page  # the tab shows to who may open it


def test_the_services_check_the_permission_too(member, event):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        door_device_add(actor=member(Role.SUPPORT), event=event, name="Gate Z")
    with pytest.raises(DoorError):
        door_area_save(actor=member(Role.MANAGER), event=event, name=" ")


def test_another_organisations_event_is_404(client, other_organisation, event, device):
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    client.force_login(outsider)
    for name, kwargs in [("event_door", {}), ("event_scans", {})]:
        assert client.get(url(name, event, **kwargs)).status_code == 404
    theirs = reverse("event_door", kwargs={"org": "other", "event_id": event.public_id})
    assert client.get(theirs).status_code == 404
    assert client.post(url("door_device_change", event, device_id=device.pk), {"revoke": "1"}).status_code == 404
    device.refresh_from_db()
    assert not device.is_revoked


def test_a_region_limited_manager_outside_the_events_region_gets_404(client, organisation, event, device):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    event.region = north
    event.save()
    limited = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[south]).user
    client.force_login(limited)
    assert client.get(url("event_door", event)).status_code == 404
    assert client.get(url("event_scans", event)).status_code == 404
    assert client.post(url("door_area", event), {"name": "VIP", "all_ticket_types": "1"}).status_code == 404
    assert not AccessArea.objects.filter(name="VIP").exists()
