"""Forms for the guest pages: the guest-list filters, and the customer account forms."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.text import Truncator

from orders.forms import EmailAddressField
from orders.models import Order, OrderEmailStatus
from organiser_portal.matching import clipped_notice, clipped_query
from organiser_portal.models import Event

from .selectors import SORTS, GuestFilters

# Why a value is ignored, as the alert above the list says it: 'Ignored “bogus”: not an order status.'
_NOT_A = {
    "status": "not an order status",
    "email_status": "not an email status",
    "ticket_type": "not a ticket type of this event",
    "sort": "not a sort order",
}


class GuestFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search this event")
    status = forms.ChoiceField(required=False, label="Order status")
    email_status = forms.ChoiceField(required=False, label="Email status")
    ticket_type = forms.TypedChoiceField(required=False, label="Ticket type", coerce=int, empty_value=None)
    held = forms.BooleanField(required=False, label="Held for review")
    refund_stuck = forms.BooleanField(required=False, label="Refund stuck")
    data_missing = forms.BooleanField(required=False, label="Personal data missing")
    sort = forms.ChoiceField(required=False, label="Sort", choices=list(SORTS.items()))

    def __init__(self, *args, event: Event | None, **kwargs):
        """`event` None: the Orders list across events, which has no ticket type filter (types are an event's)."""
        super().__init__(*args, **kwargs)
        self._filters: GuestFilters | None = None
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
        """The filters to apply: every valid value; an invalid one is left out (and named by `notices`) rather
        than failing the page or dropping the others. Search text is searched as matching.clipped_query cuts it."""
        if self._filters is None:
            self.is_valid()  # cleaned_data keeps the fields that are valid (none when the form is unbound)
            data = getattr(self, "cleaned_data", {})
            self._filters = GuestFilters(
                q=clipped_query(data.get("q") or "")[0],
                status=data.get("status") or "",
                email_status=data.get("email_status") or "",
                ticket_type=data.get("ticket_type"),
                held=bool(data.get("held")),
                refund_stuck=bool(data.get("refund_stuck")),
                data_missing=bool(data.get("data_missing")),
                sort=data.get("sort") or "newest",
            )
        return self._filters

    def notices(self) -> tuple[str, ...]:
        """What of the request the list ignores and why, for the alert above it:
        ('Ignored “bogus”: not an order status.', 'The search text is limited to 200 characters: …')."""
        said = []
        if notice := clipped_notice(clipped=clipped_query(str(self.data.get("q", "")))[1]):
            said.append(notice)
        self.filters()
        for name in self.errors:
            if name in _NOT_A:
                said.append(f"Ignored “{Truncator(str(self.data.get(name, ''))).chars(40)}”: {_NOT_A[name]}.")
        return tuple(said)

    def active_filters(self) -> tuple[str, ...]:
        """The filters set beside the search text, as the page names them: ("Order status: Refunded", "Held for review")."""
        filters = self.filters()
        named = []
        for name in ("status", "email_status", "ticket_type"):
            field = self.fields.get(name)  # the Orders list has no ticket type
            if (value := getattr(filters, name)) and isinstance(field, forms.ChoiceField):
                labels = dict(cast(list[tuple[object, str]], field.choices))  # set in __init__: (value, label) pairs
                named.append(f"{field.label}: {labels.get(value, value)}")
        if filters.held:
            named.append("Held for review")
        if filters.refund_stuck:
            named.append("Refund stuck")
        if filters.data_missing:
            named.append("Personal data missing")
        return tuple(named)


class CustomerAccountForm(forms.Form):
    """A new customer account: from an order (its contact, prefilled) or from the Customers list (with an
    address). The address rule is the contact form's (organiser_portal.addresses)."""

    name = forms.CharField(label="Name", max_length=200)
    email = EmailAddressField(label="Email", max_length=254)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    address = forms.CharField(label="Address", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, with_address: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_address:  # from an order: the account takes the order's address
            del self.fields["address"]


class ChooseCustomerForm(forms.Form):
    """The account a link or merge confirmation names (its id, from the page that showed it)."""

    customer = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
