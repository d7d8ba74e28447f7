"""The tenancy core: organisations, their regions, who belongs to them, their events."""

from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .codes import new_event_id
from .money import UnknownCurrency, minor_units
from .phones import DEFAULT_COUNTRY, validate_country


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    country = models.CharField(
        max_length=2,
        default=DEFAULT_COUNTRY,
        validators=[validate_country],
        help_text="ISO 3166 country code (DE, AT, FR …): the country phone numbers without +… are read as from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="regions")
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="region_unique_name")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organisation, optionally limited to some regions."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MANAGER = "manager", "Manager"
        SUPPORT = "support", "Support agent"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    # Stored apart from `regions`: a limited member whose last region is deleted or unticked sees nothing,
    # never every region (permissions.Access.region_ids is then an empty set).
    region_limited = models.BooleanField(
        "limited to some regions", default=False, help_text="On: the member sees only the regions ticked below."
    )
    regions = models.ManyToManyField(
        Region, blank=True, related_name="memberships", help_text="The regions a limited member sees."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"


def validate_currency(code: str) -> None:
    """An ISO 4217 code whose amounts the money columns can hold: with at most two decimals, for now."""
    try:
        decimals = minor_units(code)
    except UnknownCurrency as error:
        raise ValidationError(str(error), code="unknown_currency") from error
    stored = TicketType._meta.get_field("price").decimal_places
    if decimals > stored:  # a dinar's fils would be rounded away by the database
        raise ValidationError(
            f"{code} amounts have {decimals} decimals; amounts are stored with {stored}.", code="too_many_decimals"
        )


def validate_time_zone(name: str) -> None:
    """A time zone of the IANA database by its name, as zoneinfo knows it ("Europe/Berlin", "UTC")."""
    if name not in available_time_zones():
        raise ValidationError(f"{name} is not a time zone name such as Europe/Berlin.", code="unknown_time_zone")


@cache
def available_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


class Event(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="events")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    name = models.CharField(max_length=200)
    public_id = models.CharField("event ID", max_length=12, unique=True, default=new_event_id, editable=False)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    venue = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_time_zone])
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="ISO 3166 country code for phone numbers written without +…; blank: the organisation's.",
    )
    send_tickets_automatically = models.BooleanField(
        default=True, help_text="Off: paid orders are held for review until someone sends their tickets."
    )
    attach_pdf_tickets = models.BooleanField(
        "attach PDF tickets to the email",
        default=True,
        db_default=True,
        help_text="Off: tickets emails carry a link to the customer's tickets page instead of the PDF.",
    )
    guest_checkout = models.BooleanField(
        "guest checkout", default=True, help_text="On: buyers may order without a customer account."
    )
    personal_data_frozen_days = models.PositiveSmallIntegerField(
        "attendee details frozen (days before the start)",
        null=True,
        blank=True,
        help_text="From this many days before the event only managers may change attendee details. Blank: never.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gte=models.F("starts_at")), name="event_ends_after_start")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def phone_region(self) -> str:
        """The country a phone number without a country code on this event's orders was written in."""
        return self.country or self.organisation.country


class TicketType(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(max_length=120)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    booking_fee = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Paid by the buyer per ticket; kept by the organiser.",
    )
    tax_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"), help_text="Percent, included in the price."
    )
    requires_personal_data = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["event", "price"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="ticket_type_price_non_negative"),
            models.CheckConstraint(condition=Q(booking_fee__gte=0), name="ticket_type_fee_non_negative"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="ticket_type_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name
