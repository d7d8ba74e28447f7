"""An event a month ahead whose "Conference pass" needs personal data (name, email, a required T-shirt size and
an optional date of birth), and paid orders of it, made through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from orders.models import Order
from organiser_portal.models import Event, TicketType
from tests.factories import EventFactory, TicketTypeFactory
from tickets.models import PersonalDataField


def personal_event(organisation, **kwargs) -> Event:
    kwargs.setdefault("starts_at", timezone.now() + timedelta(days=30))
    event: Event = EventFactory(organisation=organisation, name="Product Summit", **kwargs)  # type: ignore[assignment]
    pass_type: TicketType = TicketTypeFactory(event=event, name="Conference pass", requires_personal_data=True)  # type: ignore[assignment]
    TicketTypeFactory(event=event, name="Party add-on", price="10.00")
    PersonalDataField.objects.create(
        organisation=organisation,
        ticket_type=pass_type,
        key="shirt",
        label="T-shirt size",
        kind=PersonalDataField.Kind.CHOICE,
        choices=["S", "M", "L"],
        required=True,
        position=0,
    )
    PersonalDataField.objects.create(
        organisation=organisation,
        ticket_type=pass_type,
        key="born",
        label="Date of birth",
        kind=PersonalDataField.Kind.DATE,
        position=1,
    )
    return event


def pass_type(event: Event):
    return event.ticket_types.get(name="Conference pass")


def personal_order(make_order, event: Event, *, quantity: int = 2, **kwargs) -> Order:
    return make_order(event=event, ticket_type=pass_type(event), quantity=quantity, **kwargs)
