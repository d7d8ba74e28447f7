"""The attendee details form: one block per ticket needing personal data, for the whole order at once.

The agents' page (orders.personalise_views) and the customer's public page (tickets.public_views) share it.
Its fields are named `ticket-<ticket ID>-name`, `-email` and `-<field key>`; a block left wholly blank on a
ticket that has no details yet is left out (filled in later), any other block must be complete. The form
parses; the service (tickets.personalisation) checks again and saves, and its per-field errors come back here
through `add_service_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PersonalDataField, Ticket
from .personalisation import NAME_MAX, VALUE_MAX, AttendeeDetails, PersonalisationError

_TICKET_FIELD = re.compile(r"ticket-([^-]+)-")


@dataclass(frozen=True)
class Block:
    """One ticket's part of the form, for the template."""

    ticket: Ticket
    fields: list[forms.BoundField]
    missing: bool  # the ticket still lacks required details


def _prefix(ticket: Ticket) -> str:
    return f"ticket-{ticket.public_id}-"


def _data_field(data_field: PersonalDataField) -> forms.Field:
    field = _plain_field(data_field)
    if data_field.required:
        field.label = f"{data_field.label} *"
    return field


def _plain_field(data_field: PersonalDataField) -> forms.Field:
    if data_field.kind == PersonalDataField.Kind.DATE:
        return forms.DateField(label=data_field.label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    if data_field.kind == PersonalDataField.Kind.CHOICE:
        choices = [("", "—"), *((c, c) for c in data_field.choices)]
        return forms.ChoiceField(label=data_field.label, required=False, choices=choices)
    return forms.CharField(label=data_field.label, required=False, max_length=VALUE_MAX)


class AttendeeDetailsForm(forms.Form):
    def __init__(
        self,
        data=None,
        *,
        tickets: Sequence[Ticket],
        fields_by_type: dict[int, list[PersonalDataField]],
    ):
        super().__init__(data)
        self.tickets = list(tickets)
        self.fields_by_type = fields_by_type
        for ticket in self.tickets:
            prefix = _prefix(ticket)
            stored = ticket.attendee_data or {}
            self.fields[f"{prefix}name"] = forms.CharField(
                label=_("Attendee name *"), required=False, max_length=NAME_MAX, initial=ticket.attendee_name
            )
            self.fields[f"{prefix}email"] = forms.EmailField(
                label=_("Attendee email *"), required=False, initial=ticket.attendee_email
            )
            for data_field in fields_by_type.get(ticket.ticket_type_id, []):
                form_field = _data_field(data_field)
                form_field.initial = stored.get(data_field.key, "")
                self.fields[f"{prefix}{data_field.key}"] = form_field
        for form_field in self.fields.values():
            select = isinstance(form_field.widget, forms.Select)
            form_field.widget.attrs.setdefault("class", "form-select" if select else "form-control")
        for name, form_field in self.fields.items():
            if name.endswith("-email"):
                form_field.widget.attrs.update(inputmode="email", autocomplete="off", spellcheck="false")

    def foreign_ticket_ids(self) -> set[str]:
        """Ticket IDs the posted data names that aren't the form's tickets (another order's: refused)."""
        ours = {t.public_id for t in self.tickets}
        named = {m.group(1) for key in (self.data or {}) if (m := _TICKET_FIELD.match(key))}
        return named - ours

    def _keys(self, ticket: Ticket) -> list[str]:
        return ["name", "email", *(f.key for f in self.fields_by_type.get(ticket.ticket_type_id, []))]

    def _blank_and_new(self, ticket: Ticket) -> bool:
        prefix = _prefix(ticket)
        untouched = not (ticket.attendee_name or ticket.attendee_email or ticket.attendee_data)
        return untouched and not any(str(self.data.get(f"{prefix}{key}", "")).strip() for key in self._keys(ticket))

    def clean(self):
        data = super().clean()
        for ticket in self.tickets:
            if self._blank_and_new(ticket):
                continue
            prefix = _prefix(ticket)
            required = [
                "name",
                "email",
                *(f.key for f in self.fields_by_type.get(ticket.ticket_type_id, []) if f.required),
            ]
            for key in required:
                name = f"{prefix}{key}"
                if name not in self.errors and not data.get(name):
                    self.add_error(name, _("This field is required."))
        return data

    def details(self) -> dict[str, AttendeeDetails]:
        """Ticket ID → the details given, for every block not left blank (call after is_valid)."""
        details = {}
        for ticket in self.tickets:
            if self._blank_and_new(ticket):
                continue
            prefix = _prefix(ticket)
            extra = {}
            for data_field in self.fields_by_type.get(ticket.ticket_type_id, []):
                value = self.cleaned_data.get(f"{prefix}{data_field.key}")
                extra[data_field.key] = value.isoformat() if isinstance(value, date) else str(value or "")
            details[ticket.public_id] = AttendeeDetails(
                name=self.cleaned_data.get(f"{prefix}name", ""),
                email=self.cleaned_data.get(f"{prefix}email", ""),
                data=extra,
            )
        return details

    def add_service_errors(self, error: PersonalisationError) -> None:
        """The service's refusal: per field where it names one, else for the whole form."""
        for public_id, by_key in error.errors.items():
            for key, text in by_key.items():
                name = f"ticket-{public_id}-{key}"
                self.add_error(name if name in self.fields else None, text)
        if not error.errors:
            self.add_error(None, str(error))

    def blocks(self) -> list[Block]:
        blocks = []
        for ticket in self.tickets:
            prefix = _prefix(ticket)
            bound = [self[name] for name in self.fields if name.startswith(prefix)]
            blocks.append(Block(ticket=ticket, fields=bound, missing=ticket.personal_data_missing))
        return blocks
