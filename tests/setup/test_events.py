"""Events and ticket types: create and edit, the changes refused because they would break orders, money to the
currency's minor unit, permissions, regions and other organisations."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from organiser_portal.models import Event, Membership, TicketType
from setup.errors import SetupError
from setup.models import AuditEntry
from setup.services import (
    EventSettings,
    TicketTypeSettings,
    event_create,
    event_update,
    ticket_type_create,
    ticket_type_delete,
    ticket_type_update,
)
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role
TOKYO = ZoneInfo("Asia/Tokyo")


def settings_of(event: Event, **changes) -> EventSettings:
    values = {
        "name": event.name,
        "venue": event.venue,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "time_zone": event.time_zone,
        "currency": event.currency,
        "country": event.country,
        "region_id": event.region_id,
        "send_tickets_automatically": event.send_tickets_automatically,
        "guest_checkout": event.guest_checkout,
    }
    return EventSettings(**{**values, **changes})


def new_event(**changes) -> EventSettings:
    values = {
        "name": "Tokyo Night",
        "venue": "Zepp",
        "starts_at": datetime(2027, 3, 1, 19, 0, tzinfo=TOKYO),
        "ends_at": datetime(2027, 3, 1, 23, 0, tzinfo=TOKYO),
        "time_zone": "Asia/Tokyo",
        "currency": "JPY",
        "country": "JP",
        "region_id": None,
        "send_tickets_automatically": True,
        "guest_checkout": False,
    }
    return EventSettings(**{**values, **changes})


def type_settings(ticket_type: TicketType | None = None, **changes) -> TicketTypeSettings:
    values = {"name": "Standing", "price": Decimal("5000"), "booking_fee": Decimal("300"), "tax_rate": Decimal("10")}
    values |= {"capacity": None, "requires_personal_data": False}
    if ticket_type is not None:
        values = {
            name: getattr(ticket_type, name)
            for name in TicketTypeSettings.__dataclass_fields__
            if name != "attendee_fields"
        }
    return TicketTypeSettings(**{**values, **changes})


def test_create_an_event_once_per_form(organisation, manager):
    event = event_create(actor=manager, organisation=organisation, settings=new_event(), idempotency_key="form-1")
    assert (event.name, event.currency, event.time_zone, event.country, event.guest_checkout) == (
        "Tokyo Night",
        "JPY",
        "Asia/Tokyo",
        "JP",
        False,
    )
    assert event.starts_at == datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    again = event_create(actor=manager, organisation=organisation, settings=new_event(), idempotency_key="form-1")
    assert again.pk == event.pk and Event.objects.count() == 1
    assert AuditEntry.objects.get().action == "event.created"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "KWD"}, "currency"),  # three decimals: the money columns hold two
        ({"country": "XX"}, "country"),
        ({"ends_at": datetime(2027, 3, 1, 18, 0, tzinfo=TOKYO)}, "ends_at"),
        ({"name": "   "}, None),
    ],
)
def test_bad_event_settings_are_refused_and_nothing_is_written(organisation, manager, changes, field):
    with pytest.raises((ValidationError, SetupError)) as refused:
        event_create(actor=manager, organisation=organisation, settings=new_event(**changes), idempotency_key="k")
    if field:
        assert field in refused.value.message_dict
    assert not Event.objects.exists() and not AuditEntry.objects.exists()


def test_switching_send_tickets_automatically_is_recorded(organisation, manager, event):
    event_update(
        actor=manager,
        organisation=organisation,
        public_id=event.public_id,
        settings=settings_of(event, send_tickets_automatically=False, venue="Hall 2"),
    )
    event.refresh_from_db()
    assert not event.send_tickets_automatically and event.venue == "Hall 2"
    entries = {e.action: e for e in AuditEntry.objects.filter(event=event)}
    assert entries["event.send_tickets_switched"].data == {"state": "off"}
    assert entries["event.send_tickets_switched"].actor == manager
    assert entries["event.changed"].data == {"fields": "the venue"}
    # The same settings again (a double submit) change and record nothing.
    event_update(actor=manager, organisation=organisation, public_id=event.public_id, settings=settings_of(event))
    assert AuditEntry.objects.count() == 2


def test_the_currency_stays_once_an_event_has_orders(organisation, manager, event, make_order):
    event_update(
        actor=manager, organisation=organisation, public_id=event.public_id, settings=settings_of(event, currency="CHF")
    )
    event.refresh_from_db()
    assert event.currency == "CHF"
    make_order()
    with pytest.raises(SetupError, match="The currency can't change from CHF to EUR: the event has an order in CHF"):
        event_update(
            actor=manager,
            organisation=organisation,
            public_id=event.public_id,
            settings=settings_of(event, currency="EUR"),
        )
    event.refresh_from_db()
    assert event.currency == "CHF"


def test_permission_region_and_organisation(organisation, other_organisation, member, event):
    viewer, support = member(Role.VIEWER), member(Role.SUPPORT)
    for user in (viewer, support):
        with pytest.raises(PermissionDenied, match="can't change event settings"):
            event_update(actor=user, organisation=organisation, public_id=event.public_id, settings=settings_of(event))
    foreign = EventFactory(organisation=other_organisation)
    manager = member(Role.MANAGER)
    with pytest.raises(Http404):
        event_update(
            actor=manager, organisation=organisation, public_id=foreign.public_id, settings=settings_of(foreign)
        )
    with pytest.raises(Http404):
        event_update(
            actor=manager, organisation=other_organisation, public_id=foreign.public_id, settings=settings_of(foreign)
        )
    hamburg, berlin = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    in_berlin = EventFactory(organisation=organisation, region=berlin)
    limited = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[hamburg]).user
    with pytest.raises(Http404):
        event_update(
            actor=limited,
            organisation=organisation,
            public_id=in_berlin.public_id,
            settings=settings_of(in_berlin, name="x"),
        )
    with pytest.raises(Http404):  # nor move an event of theirs to a region not theirs, nor create one there
        in_hamburg = EventFactory(organisation=organisation, region=hamburg)
        event_update(
            actor=limited,
            organisation=organisation,
            public_id=in_hamburg.public_id,
            settings=settings_of(in_hamburg, region_id=berlin.pk),
        )
    with pytest.raises(Http404):
        event_create(
            actor=limited, organisation=organisation, settings=new_event(region_id=berlin.pk), idempotency_key="k"
        )
    assert not AuditEntry.objects.exists()


# --- Ticket types --------------------------------------------------------------------------------------------


def test_ticket_types_are_created_once_per_form_changed_and_deleted(organisation, manager, event):
    created = ticket_type_create(
        actor=manager,
        organisation=organisation,
        public_id=event.public_id,
        settings=type_settings(price=Decimal("49.90"), booking_fee=Decimal("2.50"), capacity=100),
        idempotency_key="form-1",
    )
    again = ticket_type_create(
        actor=manager,
        organisation=organisation,
        public_id=event.public_id,
        settings=type_settings(),
        idempotency_key="form-1",
    )
    assert again.pk == created.pk and TicketType.objects.count() == 1
    ticket_type_update(
        actor=manager,
        organisation=organisation,
        public_id=event.public_id,
        ticket_type_id=created.pk,
        settings=type_settings(created, price=Decimal("59.90"), requires_personal_data=True),
    )
    created.refresh_from_db()
    assert created.price == Decimal("59.90") and created.requires_personal_data
    ticket_type_delete(actor=manager, organisation=organisation, public_id=event.public_id, ticket_type_id=created.pk)
    assert not TicketType.objects.exists()
    assert [e.data.get("fields") for e in AuditEntry.objects.filter(action="ticket_type.changed")] == [
        "price, personal data needed"
    ]
    with pytest.raises(Http404):  # a double submit of the deletion
        ticket_type_delete(
            actor=manager, organisation=organisation, public_id=event.public_id, ticket_type_id=created.pk
        )


@pytest.mark.parametrize(
    ("currency", "price", "message"),
    [
        ("JPY", Decimal("5000.50"), "JPY amounts have no decimals."),
        ("EUR", Decimal("49.905"), "EUR amounts have at most 2 decimals."),
    ],
)
def test_amounts_fit_the_currencys_minor_unit(organisation, manager, currency, price, message):
    event = EventFactory(organisation=organisation, currency=currency)
    with pytest.raises(ValidationError) as refused:
        ticket_type_create(
            actor=manager,
            organisation=organisation,
            public_id=event.public_id,
            settings=type_settings(price=price, booking_fee=price),
            idempotency_key="k",
        )
    assert refused.value.message_dict == {"price": [message], "booking_fee": [message]}
    assert not TicketType.objects.exists()
    whole = ticket_type_create(
        actor=manager,
        organisation=organisation,
        public_id=event.public_id,
        settings=type_settings(price=Decimal("5000")),
        idempotency_key="k2",
    )
    assert whole.price == Decimal("5000")


def test_a_ticket_type_with_orders_is_not_deleted(organisation, manager, event, ticket_type, make_order):
    make_order(quantity=2)
    with pytest.raises(SetupError, match="General admission can't be deleted: an order has it"):
        ticket_type_delete(
            actor=manager, organisation=organisation, public_id=event.public_id, ticket_type_id=ticket_type.pk
        )
    assert TicketType.objects.filter(pk=ticket_type.pk).exists()


def test_capacity_stays_at_or_above_the_tickets_sold(organisation, manager, event, ticket_type, make_order):
    make_order(quantity=2)  # paid: two valid tickets
    make_order(quantity=1, paid=False)  # reserved: its ticket isn't issued yet, but counts
    with pytest.raises(SetupError, match="The capacity of General admission can't be 2: 3 tickets are sold"):
        ticket_type_update(
            actor=manager,
            organisation=organisation,
            public_id=event.public_id,
            ticket_type_id=ticket_type.pk,
            settings=type_settings(ticket_type, capacity=2),
        )
    ticket_type_update(
        actor=manager,
        organisation=organisation,
        public_id=event.public_id,
        ticket_type_id=ticket_type.pk,
        settings=type_settings(ticket_type, capacity=3),
    )
    ticket_type.refresh_from_db()
    assert ticket_type.capacity == 3


def test_ticket_types_of_another_organisation_or_region_are_404(organisation, other_organisation, member, manager):
    foreign_event = EventFactory(organisation=other_organisation)
    foreign = TicketTypeFactory(event=foreign_event)
    with pytest.raises(Http404):
        ticket_type_delete(
            actor=manager, organisation=organisation, public_id=foreign_event.public_id, ticket_type_id=foreign.pk
        )
    event = EventFactory(organisation=organisation)
    with pytest.raises(Http404):  # another event's ticket type through this event
        ticket_type_delete(
            actor=manager, organisation=organisation, public_id=event.public_id, ticket_type_id=foreign.pk
        )
    hamburg, berlin = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    in_berlin = TicketTypeFactory(event=EventFactory(organisation=organisation, region=berlin))
    limited = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[hamburg]).user
    with pytest.raises(Http404):
        ticket_type_delete(
            actor=limited, organisation=organisation, public_id=in_berlin.event.public_id, ticket_type_id=in_berlin.pk
        )
    with pytest.raises(PermissionDenied):
        ticket_type_delete(
            actor=member(Role.SUPPORT),
            organisation=organisation,
            public_id=event.public_id,
            ticket_type_id=in_berlin.pk,
        )
    assert TicketType.objects.count() == 2
