"""Personalisation settings: a ticket type's attendee fields on its settings page (one per line), and an event's
"attendee details freeze" days; each change recorded, bad lines refused with their number, nothing written."""

import pytest
from django.urls import reverse

from organiser_portal.models import Event, Membership
from setup.models import AuditEntry
from tests.factories import TicketTypeFactory
from tickets.models import PersonalDataField

pytestmark = pytest.mark.django_db
Role = Membership.Role


def test_a_manager_sets_the_attendee_fields_of_a_ticket_type(client, organisation, event, manager):
    ticket_type = TicketTypeFactory(event=event, name="Conference pass")
    edit_url = reverse(
        "ticket_type_edit",
        kwargs={"org": organisation.slug, "event_id": event.public_id, "ticket_type_id": ticket_type.pk},
    )
    client.force_login(manager)
    data = {
        "idempotency_key": "k",
        "name": "Conference pass",
        "price": "50.00",
        "booking_fee": "2.50",
        "tax_rate": "19",
        "requires_personal_data": "on",
        "personal_data_fields": "T-shirt size | choice: S, M, L | required\nCompany",
    }
    bad = client.post(edit_url, {**data, "personal_data_fields": "Company\nSize | choice: S"})
    assert bad.status_code == 400 and "Line 2: a choice needs at least two options" in bad.content.decode()
    assert not PersonalDataField.objects.exists()

    assert client.post(edit_url, data).status_code == 302
    fields = list(PersonalDataField.objects.filter(ticket_type=ticket_type).values_list("label", "kind", "required"))
    assert fields == [("T-shirt size", "choice", True), ("Company", "text", False)]
    change = AuditEntry.objects.filter(action="ticket_type.changed").latest("id")
    assert change.data["fields"] == "personal data needed, attendee fields"
    page = client.get(edit_url).content.decode()
    assert "T-shirt size | choice: S, M, L | required\nCompany</textarea>" in page


def test_the_freeze_days_are_an_event_setting(client, organisation, event, manager):
    client.force_login(manager)
    settings_url = reverse("event_settings", kwargs={"org": organisation.slug, "event_id": event.public_id})
    page = client.get(settings_url).content.decode()
    assert 'name="personal_data_frozen_days"' in page
    starts = event.starts_at.astimezone(event.tzinfo)
    ends = event.ends_at.astimezone(event.tzinfo)
    data = {
        "idempotency_key": "e",
        "name": event.name,
        "venue": event.venue,
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": event.time_zone,
        "currency": event.currency,
        "country": "",
        "region": "",
        "send_tickets_automatically": "on",
        "attach_pdf_tickets": "on",
        "guest_checkout": "on",
        "personal_data_frozen_days": "3",
    }
    response = client.post(settings_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Event.objects.get(pk=event.pk).personal_data_frozen_days == 3
    change = AuditEntry.objects.get(action="event.changed")
    assert change.data["fields"].endswith("when attendee details freeze")  # the factory's seconds go too
