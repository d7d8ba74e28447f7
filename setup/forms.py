"""Forms of organisation setup. They parse and validate input; the services decide and write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_name, list_currencies
from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from organiser_portal.addresses import AddressError, address_normalise
from organiser_portal.models import Event, Membership, Region, TicketType, available_time_zones, validate_currency
from organiser_portal.money import minor_units
from organiser_portal.permissions import Access
from organiser_portal.phones import validate_country
from tickets.personal_fields import FIELD_LINES_HELP, FieldSpec, field_specs_parse, field_specs_text

from .services import EventSettings, TicketTypeSettings, minor_unit_error, password_reset_queue

Role = Membership.Role
ROLE_CHOICES = [
    (Role.VIEWER, "Viewer: reads orders, guests, tickets and messages"),
    (
        Role.SUPPORT,
        "Support agent: viewer + resend, edit contact, PDF, personalisation, send held tickets, box-office orders",
    ),
    (Role.MANAGER, "Manager: support + complimentary orders, refund, cancel, import, event and ticket-type settings"),
    (Role.OWNER, "Owner: manager + team, regions and organisation settings"),
]
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


_WIDGET_CLASS = {
    "checkbox": "form-check-input",
    "radioselect": "form-check-input",
    "checkboxselectmultiple": "form-check-input",
    "select": "form-select form-select-sm",
}


class SetupForm(forms.Form):
    """Bootstrap's classes on every widget (templates/setup/_field.html lays the fields out)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # not the bound fields: they'd keep their label before a subclass sets it
            kind = type(field.widget).__name__.lower().removesuffix("input")
            field.widget.attrs.setdefault("class", _WIDGET_CLASS.get(kind, "form-control form-control-sm"))


class IdempotentForm(SetupForm):
    """Carries a token minted when the form is shown: a double submit sends the same token, and the service
    does the work once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class RegionChoiceMixin(SetupForm):
    """Role-like region limit: "every region" or some of the organisation's regions (possibly none)."""

    region_limited = forms.TypedChoiceField(
        label="Regions",
        choices=[("", "Every region"), ("1", "Only the regions ticked below")],
        coerce=bool,
        empty_value="",
        required=False,
        widget=forms.RadioSelect,
    )
    regions = forms.ModelMultipleChoiceField(
        queryset=Region.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Limited to",
        help_text="A member limited to no region sees no event.",
    )

    def setup_regions(self, access: Access) -> None:
        self.fields["regions"].queryset = Region.objects.filter(organisation=access.organisation)  # type: ignore[attr-defined]

    def region_ids(self) -> list[int] | None:
        """None: every region; else the ids ticked (maybe none)."""
        if not self.cleaned_data.get("region_limited"):
            return None
        return [region.pk for region in self.cleaned_data.get("regions") or []]


class InviteForm(RegionChoiceMixin):
    email = forms.CharField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial=Role.SUPPORT)
    field_order = ["email", "role", "region_limited", "regions"]

    def __init__(self, *args, access: Access, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_regions(access)

    def clean_email(self) -> str:
        try:
            address = address_normalise(self.cleaned_data["email"])
        except AddressError as error:
            raise ValidationError(str(error), code="invalid") from None
        return address.value


class MemberForm(RegionChoiceMixin):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)
    field_order = ["role", "region_limited", "regions"]

    def __init__(self, *args, access: Access, membership: Membership, **kwargs):
        initial = {
            "role": membership.role,
            "region_limited": "1" if membership.region_limited else "",
            "regions": list(membership.regions.all()),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.setup_regions(access)


class RegionForm(SetupForm):
    name = forms.CharField(label="Name", max_length=120)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time on the event's clocks, as a `datetime-local` input sends it: naive here, made aware in
    the event's time zone by the form (not in the portal's, as Django's field would)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None, second=0, microsecond=0)
        except ValueError:
            raise ValidationError("Enter a date and time, such as 2026-12-31 19:30.", code="invalid") from None


@cache
def currency_choices() -> list[tuple[str, str]]:
    """Every ISO 4217 currency the money columns can hold (validate_currency), as "EUR · Euro"."""
    choices = []
    for code in sorted(list_currencies()):
        try:
            validate_currency(code)
        except ValidationError:
            continue
        choices.append((code, f"{code} · {get_currency_name(code, locale='en')}"))
    return choices


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_time_zones())]


class EventForm(IdempotentForm):
    name = forms.CharField(label="Name", max_length=200)
    venue = forms.CharField(label="Venue", max_length=200, required=False)
    starts_at = LocalDateTimeField(label="Starts")
    ends_at = LocalDateTimeField(label="Ends")
    time_zone = forms.ChoiceField(
        label="Time zone", help_text="Start and end are on this zone's clocks.", initial="Europe/Berlin"
    )
    currency = forms.ChoiceField(label="Currency", initial="EUR")
    country = forms.CharField(
        label="Country",
        max_length=2,
        required=False,
        help_text="ISO 3166 code (DE, AT, FR …) phone numbers without +… are read in; blank: the organisation's.",
    )
    region = forms.ChoiceField(label="Region", required=False)
    send_tickets_automatically = forms.BooleanField(
        label="Send tickets automatically",
        required=False,
        initial=True,
        help_text="Off: paid orders are held for review until someone sends their tickets.",
    )
    attach_pdf_tickets = forms.BooleanField(
        label="Attach PDF tickets to the email",
        required=False,
        initial=True,
        help_text="Off: the tickets email carries a link to the customer's tickets page instead (some mailbox "
        "providers block PDF attachments from unknown senders).",
    )
    guest_checkout = forms.BooleanField(
        label="Guest checkout",
        required=False,
        initial=True,
        help_text="On: buyers may order without a customer account.",
    )
    personal_data_frozen_days = forms.IntegerField(
        label="Attendee details freeze (days before the start)",
        required=False,
        min_value=0,
        max_value=365,
        help_text="From then on only managers may change attendee details, and customers' links stop. Blank: never.",
    )

    def __init__(self, *args, access: Access, event: Event | None = None, **kwargs):
        if event is not None:
            tz = event.tzinfo
            kwargs["initial"] = {
                "name": event.name,
                "venue": event.venue,
                "starts_at": timezone.localtime(event.starts_at, tz).replace(tzinfo=None),
                "ends_at": timezone.localtime(event.ends_at, tz).replace(tzinfo=None),
                "time_zone": event.time_zone,
                "currency": event.currency,
                "country": event.country,
                "region": str(event.region_id or ""),
                "send_tickets_automatically": event.send_tickets_automatically,
                "attach_pdf_tickets": event.attach_pdf_tickets,
                "guest_checkout": event.guest_checkout,
                "personal_data_frozen_days": event.personal_data_frozen_days,
                **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()  # type: ignore[attr-defined]
        self.fields["currency"].choices = currency_choices()  # type: ignore[attr-defined]
        regions = Region.objects.filter(organisation=access.organisation)
        if access.region_ids is not None:
            regions = regions.filter(pk__in=access.region_ids)
        choices = [(str(r.pk), r.name) for r in regions]
        if access.region_ids is None:  # only a member of every region may leave an event without one
            choices.insert(0, ("", "No region"))
        self.fields["region"].choices = choices  # type: ignore[attr-defined]
        self.fields["region"].required = access.region_ids is not None

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        validate_country(country)
        return country

    def clean(self):
        data = super().clean()
        zone = data.get("time_zone")
        if zone:
            for name in ("starts_at", "ends_at"):
                local = data.get(name)
                if local is None:
                    continue
                aware = local.replace(tzinfo=ZoneInfo(zone))
                # A time a clock change skips (02:30 on the spring-forward night) doesn't exist there.
                if aware.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) != local:
                    self.add_error(name, f"{local:%d %b %Y %H:%M} doesn't exist in {zone}: the clocks skip it.")
                    continue
                data[name] = aware
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if isinstance(starts, datetime) and isinstance(ends, datetime) and starts.tzinfo and ends < starts:
            self.add_error("ends_at", "The event can't end before it starts.")
        return data

    def settings(self) -> EventSettings:
        data = self.cleaned_data
        return EventSettings(
            name=data["name"],
            venue=data["venue"].strip(),
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            time_zone=data["time_zone"],
            currency=data["currency"],
            country=data["country"],
            region_id=int(data["region"]) if data.get("region") else None,
            send_tickets_automatically=data["send_tickets_automatically"],
            guest_checkout=data["guest_checkout"],
            attach_pdf_tickets=data["attach_pdf_tickets"],
            personal_data_frozen_days=data.get("personal_data_frozen_days"),
        )


class TicketTypeForm(IdempotentForm):
    name = forms.CharField(label="Name", max_length=120)
    price = forms.DecimalField(label="Price", min_value=0, max_digits=10, decimal_places=2)
    booking_fee = forms.DecimalField(
        label="Booking fee", min_value=0, max_digits=10, decimal_places=2, initial=0, help_text="Per ticket."
    )
    tax_rate = forms.DecimalField(
        label="Tax rate (%)", min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=0
    )
    capacity = forms.IntegerField(label="Capacity", min_value=0, required=False, help_text="Blank: no limit.")
    requires_personal_data = forms.BooleanField(
        label="Personal data needed", required=False, help_text="Each ticket of this type needs its attendee's details."
    )
    personal_data_fields = forms.CharField(
        label="Attendee fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=FIELD_LINES_HELP,
    )

    def __init__(self, *args, event: Event, ticket_type: TicketType | None = None, **kwargs):
        self.currency = event.currency
        if ticket_type is not None:
            kwargs["initial"] = {
                "name": ticket_type.name,
                "price": ticket_type.price,
                "booking_fee": ticket_type.booking_fee,
                "tax_rate": ticket_type.tax_rate,
                "capacity": ticket_type.capacity,
                "requires_personal_data": ticket_type.requires_personal_data,
                "personal_data_fields": field_specs_text(ticket_type.personal_data_fields.all()),
            }
        super().__init__(*args, **kwargs)
        decimals = minor_units(self.currency)
        for name in ("price", "booking_fee"):
            field = self.fields[name]
            field.label = f"{field.label} ({self.currency})"
            field.widget.attrs["step"] = "1" if decimals == 0 else f"{10**-decimals:.{decimals}f}"

    def _amount(self, name: str):
        amount = self.cleaned_data[name]
        if amount is not None and (error := minor_unit_error(amount, self.currency)):
            raise ValidationError(error, code="minor_unit")
        return amount

    def clean_price(self):
        return self._amount("price")

    def clean_booking_fee(self):
        return self._amount("booking_fee")

    def clean_personal_data_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(field_specs_parse(self.cleaned_data["personal_data_fields"]))

    def settings(self) -> TicketTypeSettings:
        data = self.cleaned_data
        return TicketTypeSettings(
            name=data["name"],
            price=data["price"],
            booking_fee=data["booking_fee"],
            tax_rate=data["tax_rate"],
            capacity=data["capacity"],
            requires_personal_data=data["requires_personal_data"],
            attendee_fields=data["personal_data_fields"],
        )


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending through the portal's outbox instead of from the request.

    Django's `save` renders and sends the email at once, through the configured backend, inside the request:
    a slow or failing email service would slow or break the page, and the extra time taken only when the
    address has an account would tell who has one. Here the email is queued (one insert) and a worker renders
    the link and sends it after commit, with the outbox's retries, status and delivery reports. The page
    answers the same either way (PasswordResetView redirects to "done" whatever the address).
    """

    def save(self, *args, **kwargs) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_queue(user=user)
