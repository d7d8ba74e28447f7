"""factory_boy factories for the whole domain. Amounts and links are consistent with what services create."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from guests.models import Customer
from organiser_portal.models import Event, Membership, Organisation, Region, TicketType


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("pw")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Region {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True  # the regions hook saves what it changes

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.SUPPORT

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted is not None:
            self.region_limited = True
            self.save(update_fields=["region_limited"])
            self.regions.set(extracted)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Event {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    ends_at = factory.LazyAttribute(lambda e: e.starts_at + timedelta(hours=5))
    venue = "Hall 1"
    time_zone = "Europe/Berlin"
    currency = "EUR"


class TicketTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketType

    event = factory.SubFactory(EventFactory)
    organisation = factory.SelfAttribute("event.organisation")
    name = "General admission"
    price = Decimal("50.00")
    booking_fee = Decimal("2.50")
    tax_rate = Decimal("19.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class OutgoingMessageFactory(factory.django.DjangoModelFactory):
    """A message as the send pipeline leaves it; pass order=…, and status / status_reason as needed."""

    class Meta:
        model = "notifications.OutgoingMessage"

    order = None
    organisation = factory.LazyAttribute(lambda m: m.order.organisation)
    kind = "tickets"
    recipient = factory.LazyAttribute(lambda m: m.order.contact_email)
    status = "sent"


class DeliveryEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notifications.DeliveryEvent"

    message = None
    organisation = factory.LazyAttribute(lambda e: e.message.organisation)
    event_type = "delivered"
    occurred_at = factory.LazyFunction(timezone.now)
    dedup_key = factory.Sequence(lambda n: f"test-event-{n}")


class ScanFactory(factory.django.DjangoModelFactory):
    """A door scan of `ticket`; admitted unless result / reason say otherwise."""

    class Meta:
        model = "tickets.Scan"

    ticket = None
    organisation = factory.LazyAttribute(lambda s: s.ticket.organisation)
    event = factory.LazyAttribute(lambda s: s.ticket.event)
    access_area = "Main entrance"
    access_point = "Gate 1"
    result = "admitted"
    device = "scanner-1"
