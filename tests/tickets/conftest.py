"""The test event with its doors open, its access area "Main entrance" (gates A1 and A2, every ticket type), a
scanner device standing at Gate A1, and one paid order's ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EventFactory
from tickets import selectors
from tickets.models import AccessArea, AccessPoint, Ticket
from tickets.services import scanner_device_create


@pytest.fixture
def event(organisation):
    """Summer Festival, running: it started two hours ago (scans state times inside its door window)."""
    now = timezone.now()
    return EventFactory(
        organisation=organisation,
        name="Summer Festival",
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(hours=4),
    )


@pytest.fixture
def entrance(organisation, event) -> AccessArea:
    return AccessArea.objects.create(organisation=organisation, event=event, name="Main entrance")


@pytest.fixture
def gate_a1(organisation, entrance) -> AccessPoint:
    AccessPoint.objects.create(organisation=organisation, area=entrance, name="Gate A2")
    return AccessPoint.objects.create(organisation=organisation, area=entrance, name="Gate A1")


@pytest.fixture
def device_and_token(organisation, event, gate_a1):
    return scanner_device_create(organisation=organisation, name="Gate A", event=event, access_point=gate_a1)


@pytest.fixture
def device(device_and_token):
    return device_and_token[0]


@pytest.fixture
def token(device_and_token):
    return device_and_token[1]


@pytest.fixture
def ticket(make_order) -> Ticket:
    return make_order().tickets.get()


@pytest.fixture(autouse=True)
def no_cached_devices():
    """Each test starts without scanner devices kept from another test's (rolled back) data."""
    selectors._devices.clear()
    selectors._plans.clear()
