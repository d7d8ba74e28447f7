"""Forms for the guest pages: the guest-list filters."""

from __future__ import annotations

from typing import cast

from django import forms

from orders.models import Order, OrderEmailStatus
from organiser_portal.models import Event

from .selectors import SORTS, GuestFilters


class GuestFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search this event", max_length=200)
    status = forms.ChoiceField(required=False, label="Order status")
    email_status = forms.ChoiceField(required=False, label="Email status")
    ticket_type = forms.TypedChoiceField(required=False, label="Ticket type", coerce=int, empty_value=None)
    held = forms.BooleanField(required=False, label="Held for review")
    sort = forms.ChoiceField(required=False, label="Sort", choices=list(SORTS.items()))

    def __init__(self, *args, event: Event | None, **kwargs):
        """`event` None: the Orders list across events, which has no ticket type filter (types are an event's)."""
        super().__init__(*args, **kwargs)
        self._choices("status", [("", "Any status"), *Order.Status.choices])
        self._choices("email_status", [("", "Any email status"), *OrderEmailStatus.choices])
        if event is None:
            del self.fields["ticket_type"]
            self.fields["q"].label = "Search orders"
        else:
            self._choices("ticket_type", [("", "Any ticket type"), *((t.pk, t.name) for t in event.ticket_types.all())])

    def _choices(self, name: str, choices: list) -> None:
        field = self.fields[name]
        if not isinstance(field, forms.ChoiceField):
            raise TypeError(f"{name} takes no choices: it is a {type(field).__name__}")
        field.choices = choices

    def filters(self) -> GuestFilters:
        """The filters to apply; invalid values are ignored rather than failing the page."""
        data = self.cleaned_data if self.is_valid() else {}
        return GuestFilters(
            q=" ".join((data.get("q") or "").split()),
            status=data.get("status") or "",
            email_status=data.get("email_status") or "",
            ticket_type=data.get("ticket_type"),
            held=bool(data.get("held")),
            sort=data.get("sort") or "newest",
        )

    def active_filters(self) -> tuple[str, ...]:
        """The filters set beside the search text, as the page names them: ("Order status: Refunded", "Held for review")."""
        filters = self.filters()
        named = []
        for name in ("status", "email_status", "ticket_type"):
            field = self.fields[name]
            if (value := getattr(filters, name)) and isinstance(field, forms.ChoiceField):
                labels = dict(cast(list[tuple[object, str]], field.choices))  # set in __init__: (value, label) pairs
                named.append(f"{field.label}: {labels.get(value, value)}")
        return (*named, "Held for review") if filters.held else tuple(named)
