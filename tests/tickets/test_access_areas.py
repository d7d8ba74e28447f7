"""Access areas at the door: an area admits the ticket types it is set to, a scan names its area and point or
takes its device's, and an event without areas admits as before."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EventFactory, TicketTypeFactory
from tickets.models import AccessArea, AccessPoint, Scan, Ticket
from tickets.services import scanner_device_create

pytestmark = pytest.mark.django_db


def post(client, token, body):
    return client.post(
        "/api/v1/check-ins/", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.fixture
def vip_area(organisation, event):
    vip_type = TicketTypeFactory(event=event, name="VIP pass")
    area = AccessArea.objects.create(organisation=organisation, event=event, name="VIP", all_ticket_types=False)
    area.ticket_types.set([vip_type])
    AccessPoint.objects.create(organisation=organisation, area=area, name="Lounge door")
    return area


def test_a_ticket_type_the_area_doesnt_admit_is_denied_area_not_allowed(client, token, ticket, vip_area):
    response = post(client, token, {"code": ticket.secret, "access_area": "vip"})
    answer = response.json()
    assert response.status_code == 200
    assert (answer["result"], answer["reason"]) == ("denied", "area_not_allowed")
    assert answer["message"] == "Area not allowed: General admission tickets are not admitted to VIP."
    scan = Scan.objects.get()
    assert (scan.area, scan.access_area, scan.point, scan.reason) == (vip_area, "VIP", None, "area_not_allowed")
    assert Ticket.objects.get(pk=ticket.pk).used_at is None  # still unused: it may enter where it is allowed
    assert post(client, token, {"code": ticket.secret}).json()["result"] == "admitted"  # at the device's Gate A1


def test_a_ticket_type_the_area_admits_is_admitted_at_its_point(client, token, make_order, event, vip_area):
    vip_type = vip_area.ticket_types.get()
    ticket = make_order(ticket_type=vip_type).tickets.get()
    answer = post(client, token, {"code": ticket.secret, "access_point": "Lounge door"}).json()
    assert answer["result"] == "admitted"
    scan = Scan.objects.get()
    assert (scan.access_area, scan.access_point, scan.area, scan.point.name) == (
        "VIP",
        "Lounge door",
        vip_area,
        "Lounge door",
    )


def test_a_device_at_an_access_point_scans_there(client, organisation, event, ticket, vip_area):
    lounge = vip_area.points.get()
    _, token = scanner_device_create(organisation=organisation, name="Lounge", event=event, access_point=lounge)
    answer = post(client, token, {"code": ticket.secret}).json()
    assert answer["reason"] == "area_not_allowed"
    assert (Scan.objects.get().access_area, Scan.objects.get().access_point) == ("VIP", "Lounge door")


def test_an_area_or_point_the_event_doesnt_have_is_a_400_and_nothing_is_recorded(client, token, ticket, vip_area):
    for body, complaint in [
        (
            {"access_area": "Backstage"},
            "`access_area` 'Backstage' is not an access area of Summer Festival (Main entrance, VIP)",
        ),
        ({"access_point": "Gate Z"}, "`access_point` 'Gate Z' is not an access point of Summer Festival"),
        ({"access_area": "VIP", "access_point": "Gate A1"}, "`access_point` 'Gate A1' is not an access point of VIP"),
    ]:
        response = post(client, token, {"code": ticket.secret, **body})
        assert response.status_code == 400 and complaint in response.json()["detail"], response.json()
    assert not Scan.objects.exists() and Ticket.objects.get(pk=ticket.pk).used_at is None


def test_a_point_name_in_two_areas_needs_its_area(client, organisation, token, ticket, entrance, vip_area):
    AccessPoint.objects.create(organisation=organisation, area=vip_area, name="Gate A2")
    response = post(client, token, {"code": ticket.secret, "access_point": "Gate A2"})
    assert response.status_code == 400 and "name the `access_area` too" in response.json()["detail"]
    answer = post(client, token, {"code": ticket.secret, "access_point": "Gate A2", "access_area": "Main entrance"})
    assert answer.json()["result"] == "admitted"


def test_an_event_without_areas_admits_as_before_and_keeps_the_names_sent(client, organisation, make_order):
    plain = EventFactory(organisation=organisation)
    ticket = make_order(event=plain, ticket_type=TicketTypeFactory(event=plain)).tickets.get()
    _, token = scanner_device_create(organisation=organisation, name="Roaming", event=plain)
    with CaptureQueriesContext(connection) as queries:
        answer = post(client, token, {"code": ticket.secret, "access_area": "Anywhere", "access_point": "Door 9"})
    assert answer.json()["result"] == "admitted"
    scan = Scan.objects.get()
    assert (scan.access_area, scan.access_point, scan.area, scan.point) == ("Anywhere", "Door 9", None, None)
    # device, door plan (one query: no areas), lock, insert, marked seen
    assert len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]) == 5


def test_a_change_in_the_portal_reaches_this_processs_scanner_path_at_once(
    client, manager_user, token, ticket, event, entrance
):
    from tickets.door import door_area_save

    assert post(client, token, {"code": "unknown"}).status_code == 200  # the door plan is now kept a few seconds
    door_area_save(
        actor=manager_user,
        event=event,
        area=entrance,
        name="Main entrance",
        all_ticket_types=False,
        ticket_types=[TicketTypeFactory(event=event, name="Crew")],
    )
    assert post(client, token, {"code": ticket.secret}).json()["reason"] == "area_not_allowed"


@pytest.fixture
def manager_user(member):
    from organiser_portal.models import Membership

    return member(Membership.Role.MANAGER)
