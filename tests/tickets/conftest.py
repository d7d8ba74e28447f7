"""A scanner device of the test organisation, bound to the test event, and one paid order's ticket."""

import pytest

from tickets import selectors
from tickets.models import Ticket
from tickets.services import scanner_device_create


@pytest.fixture
def device_and_token(organisation, event):
    return scanner_device_create(organisation=organisation, name="Gate A", event=event, access_area="Main entrance")


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
