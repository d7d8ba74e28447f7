"""The New order form of an event (orders.box_office): tickets, contact, and how it was paid; on the review, the
attendee details of each ticket whose type asks for them (the personalisation form, tickets.attendee_forms).

Two steps on one form, like the refund's: "review" shows the summary with the total, "confirm" creates the order,
"edit" goes back to the form filled in. The service checks everything again; the form says it early, per field.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.core.exceptions import ValidationError

from organiser_portal.models import Event, TicketType
from organiser_portal.phones import phone_validate
from tickets.attendee_forms import AttendeeDetailsForm
from tickets.models import Ticket
from tickets.personalisation import AttendeeDetails, personal_data_fields

from .box_office import BOX_OFFICE_METHODS, Complimentary, PaidAtBoxOffice
from .forms import EmailAddressField, IdempotentForm
from .services import LineRequest

MAX_PER_TYPE = 500  # more at once is a typo at a box office; bigger groups are an import


class BoxOfficeOrderForm(IdempotentForm):
    PAID, COMPLIMENTARY = "paid", "complimentary"
    REVIEW, CONFIRM, EDIT = "review", "confirm", "edit"

    contact_name = forms.CharField(label="Name", max_length=200, error_messages={"required": "Enter the buyer's name."})
    contact_email = EmailAddressField(label="Email", help_text="The tickets are emailed here.")
    contact_phone = forms.CharField(label="Phone (optional)", max_length=40, required=False)
    customer_email = EmailAddressField(
        label="Customer account (optional)",
        required=False,
        help_text="The email of an existing customer account to link the order to; empty: a guest order.",
    )
    payment = forms.ChoiceField(
        label="Payment",
        choices=[(PAID, "Paid at the box office"), (COMPLIMENTARY, "Complimentary: no charge")],
        widget=forms.RadioSelect,
        initial=PAID,
    )
    method = forms.ChoiceField(
        label="Paid by", choices=[(m, m) for m in BOX_OFFICE_METHODS], widget=forms.RadioSelect, required=False
    )
    reference = forms.CharField(label="Receipt or transfer reference (optional)", max_length=120, required=False)
    note = forms.CharField(label="Note for the timeline (optional)", max_length=200, required=False)
    reason = forms.CharField(
        label="Why complimentary",
        max_length=200,
        required=False,
        help_text="Shown on the order: “Press”, “Artist's guest list” …",
    )
    step = forms.ChoiceField(
        choices=[(REVIEW, REVIEW), (CONFIRM, CONFIRM), (EDIT, EDIT)], initial=REVIEW, widget=forms.HiddenInput
    )

    def __init__(self, *args, event: Event, ticket_types: Sequence[TicketType], may_give_away: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.event, self.ticket_types = event, list(ticket_types)
        for ticket_type in self.ticket_types:
            self.fields[self.quantity_name(ticket_type)] = forms.IntegerField(
                label=ticket_type.name,
                min_value=0,
                max_value=MAX_PER_TYPE,
                required=False,
                initial=0,
                widget=forms.NumberInput(
                    attrs={"class": "form-control form-control-sm quantity", "inputmode": "numeric"}
                ),
            )
        if not may_give_away:
            payment = self.fields["payment"]
            assert isinstance(payment, forms.ChoiceField)
            payment.choices = [(self.PAID, "Paid at the box office")]
            del self.fields["reason"]
        for name in ("contact_name", "contact_email", "contact_phone", "customer_email", "reference", "note", "reason"):
            if name in self.fields:
                self.fields[name].widget.attrs.setdefault("class", "form-control form-control-sm")
        for name in ("payment", "method"):
            self.fields[name].widget.attrs.setdefault("class", "form-check-input")
        self.fields["contact_email"].widget.attrs.update(autocomplete="off", inputmode="email")
        self.fields["contact_phone"].widget.attrs.update(autocomplete="off", inputmode="tel")

    @staticmethod
    def quantity_name(ticket_type: TicketType) -> str:
        return f"quantity_{ticket_type.pk}"

    def quantity_fields(self) -> list[tuple[TicketType, forms.BoundField]]:
        return [(tt, self[self.quantity_name(tt)]) for tt in self.ticket_types]

    def clean_contact_phone(self) -> str:
        try:
            return phone_validate(self.cleaned_data["contact_phone"], self.event.phone_region)
        except ValidationError as error:
            raise ValidationError(error.messages[0], code="invalid") from None

    def clean(self):
        data = super().clean()
        if not any(data.get(self.quantity_name(tt)) for tt in self.ticket_types) and not any(
            self.quantity_name(tt) in self.errors for tt in self.ticket_types
        ):
            self.add_error(None, "Choose at least one ticket.")
        if data.get("payment") == self.PAID and not data.get("method") and "method" not in self.errors:
            self.add_error("method", "Choose how it was paid.")
        if data.get("payment") == self.COMPLIMENTARY and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the tickets are complimentary.")
        return data

    @property
    def complimentary(self) -> bool:
        return self.cleaned_data["payment"] == self.COMPLIMENTARY

    def lines(self) -> list[LineRequest]:
        """The chosen ticket types and quantities, in the event's order of ticket types."""
        chosen = ((tt, self.cleaned_data.get(self.quantity_name(tt)) or 0) for tt in self.ticket_types)
        return [LineRequest(tt, quantity) for tt, quantity in chosen if quantity > 0]

    def payment_choice(self) -> PaidAtBoxOffice | Complimentary:
        data = self.cleaned_data
        if self.complimentary:
            return Complimentary(data["reason"])
        return PaidAtBoxOffice(data["method"], data["reference"], data["note"])

    def service_args(self) -> dict:
        """Everything `box_office_order_create` takes from the form."""
        data = self.cleaned_data
        return {
            "lines": self.lines(),
            "contact_name": data["contact_name"],
            "contact_email": data["contact_email"],
            "contact_phone": data["contact_phone"],
            "customer_email": data["customer_email"],
            "payment": self.payment_choice(),
            "idempotency_key": data["idempotency_key"],
        }

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("step") == self.CONFIRM

    @property
    def editing(self) -> bool:
        return self.cleaned_data.get("step") == self.EDIT


def sale_attendee_form(data, lines: Sequence[LineRequest]) -> AttendeeDetailsForm | None:
    """The personalisation form for the tickets these lines will issue whose type asks for personal data (None
    when none does), so its fields and checks are personalisation's own: a ticket's block left wholly blank is
    filled in later, a block started needs every required detail. The tickets don't exist yet: each stands in
    under a placeholder ID "<ticket type id>n<number>" (bound to `data`, the POST, when given)."""
    tickets = [
        Ticket(
            public_id=f"{line.ticket_type.pk}n{number}",
            ticket_type=line.ticket_type,
            attendee_data={},
            personal_data_missing=True,
        )
        for line in lines
        if line.ticket_type.requires_personal_data
        for number in range(1, line.quantity + 1)
    ]
    if not tickets:
        return None
    return AttendeeDetailsForm(
        data, tickets=tickets, fields_by_type=personal_data_fields(t.ticket_type_id for t in tickets)
    )


def sale_attendees(form: AttendeeDetailsForm) -> dict[int, list[AttendeeDetails | None]]:
    """What `box_office_order_create` takes as `attendees` from a valid `sale_attendee_form`: ticket type id →
    each of its tickets' details in turn, None for a block left blank."""
    given = form.details()
    attendees: dict[int, list[AttendeeDetails | None]] = {}
    for ticket in form.tickets:
        attendees.setdefault(ticket.ticket_type_id, []).append(given.get(ticket.public_id))
    return attendees
