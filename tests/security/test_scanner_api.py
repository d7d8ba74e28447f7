"""The check-in API is scoped to the device's organisation: another organisation's tickets are unknown
(nothing about them is revealed or changed) and its events are 404, like every page."""

import json

import pytest

from tests.factories import EventFactory
from tickets.models import Scan, Ticket
from tickets.services import scanner_device_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def their_token(other_organisation):
    their_event = EventFactory(organisation=other_organisation)
    return scanner_device_create(organisation=other_organisation, name="Their gate", event=their_event)[1]


def _post(client, token, body):
    return client.post(
        "/api/v1/check-ins/", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_another_organisations_scanner_learns_nothing_about_our_ticket(client, their_token, make_order):
    ticket = make_order(contact_name="Anna Müller").tickets.get()
    for code in (ticket.secret, ticket.public_id):
        response = _post(client, their_token, {"code": code})
        answer = response.json()
        assert response.status_code == 200
        assert (answer["result"], answer["reason"], answer["ticket"]) == ("denied", "unknown", None)
        text = response.content.decode()
        assert ticket.public_id not in text and "Anna" not in text and ticket.order.code not in text
    assert Ticket.objects.get(pk=ticket.pk).used_at is None and not ticket.scans.exists()
    assert Scan.objects.filter(organisation=ticket.organisation).count() == 0


def test_another_organisations_scanner_cant_name_our_event(client, their_token, make_order):
    ticket = make_order().tickets.get()
    response = _post(client, their_token, {"code": ticket.secret, "event": ticket.event.public_id})
    assert response.status_code == 404 and ticket.event.name not in response.content.decode()
    assert not Scan.objects.exists()
