"""Scanner devices: created with a token shown once (command line or admin), revoked from admin."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tickets.models import ScannerDevice
from tickets.selectors import scanner_device_for_token

pytestmark = pytest.mark.django_db


def test_the_command_creates_a_device_and_prints_its_token_once(organisation, event):
    out = io.StringIO()
    call_command(
        "scanner_device_create", "--org", organisation.slug, "--name", "Gate A", "--event", event.public_id, stdout=out
    )
    token = out.getvalue().strip().splitlines()[-1]
    device = ScannerDevice.objects.get()
    assert (device.name, device.organisation, device.event) == ("Gate A", organisation, event)
    assert scanner_device_for_token(token) == device and token not in device.token_hash
    # By numeric id, and unbound.
    call_command(
        "scanner_device_create", "--org", organisation.slug, "--name", "Gate B", "--event", str(event.pk), stdout=out
    )
    call_command("scanner_device_create", "--org", organisation.slug, "--name", "Roaming", stdout=out)
    assert ScannerDevice.objects.get(name="Gate B").event == event
    assert ScannerDevice.objects.get(name="Roaming").event is None


def test_the_command_refuses_an_unknown_organisation_or_another_organisations_event(
    organisation, other_organisation, event
):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("scanner_device_create", "--org", "nope", "--name", "Gate A")
    with pytest.raises(CommandError, match="No event"):
        call_command(
            "scanner_device_create", "--org", other_organisation.slug, "--name", "Gate A", "--event", event.public_id
        )
    assert not ScannerDevice.objects.exists()


def test_admin_shows_the_token_once_when_a_device_is_added(client, superuser, organisation, event):
    client.force_login(superuser)
    add = reverse("admin:tickets_scannerdevice_add")
    response = client.post(
        add,
        {"organisation": organisation.pk, "name": "Gate C", "event": event.pk, "access_area": "", "access_point": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"] if "shown this once" in str(m)]
    token = shown[0].rsplit(" ", 1)[-1]
    device = ScannerDevice.objects.get()
    assert scanner_device_for_token(token) == device
    change = client.get(reverse("admin:tickets_scannerdevice_change", args=[device.pk])).content.decode()
    assert token not in change and device.token_hint in change


def test_admin_refuses_an_event_of_another_organisation(client, superuser, other_organisation, event):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:tickets_scannerdevice_add"),
        {"organisation": other_organisation.pk, "name": "Gate", "event": event.pk},
    )
    assert response.status_code == 200 and "belongs to another organisation" in response.content.decode()
    assert not ScannerDevice.objects.exists()


def test_admin_revokes_the_selected_devices(client, superuser, device):
    client.force_login(superuser)
    changelist = reverse("admin:tickets_scannerdevice_changelist")
    client.post(changelist, {"action": "revoke", "_selected_action": [device.pk]})
    device.refresh_from_db()
    assert device.is_revoked
