"""Forms of the money actions: ⋯ Refund, ⋯ Cancel and a failed refund's Retry. They parse and validate input; the
services (orders.refunds, orders.services) decide and write."""

from __future__ import annotations

from django import forms

from .errors import OrderActionError
from .forms import IdempotentForm
from .refund_quote import parse_amount


class RefundForm(IdempotentForm):
    """⋯ Refund: what goes back (every ticket, some tickets, or an amount), the booking fee, why, and whether the
    customer is told. Two steps on one form: "review" shows the figures (orders.refund_quote), "confirm" asks."""

    ALL, TICKETS, AMOUNT = "all", "tickets", "amount"
    REVIEW, CONFIRM, EDIT = "review", "confirm", "edit"

    what = forms.ChoiceField(
        choices=[(ALL, "Every ticket"), (TICKETS, "Some tickets"), (AMOUNT, "An amount")],
        widget=forms.RadioSelect,
        initial=ALL,
        label="What to refund",
    )
    tickets = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Tickets")
    amount = forms.CharField(required=False, max_length=20, label="Amount")
    include_booking_fee = forms.BooleanField(required=False, label="Refund the booking fee too")
    reason = forms.CharField(
        max_length=200, label="Reason", error_messages={"required": "Give a reason for the refund."}
    )
    note = forms.CharField(required=False, max_length=90, label="Note for the records")
    notify_customer = forms.BooleanField(
        required=False, initial=True, label="Email the customer when the money is back"
    )
    step = forms.ChoiceField(
        choices=[(REVIEW, REVIEW), (CONFIRM, CONFIRM), (EDIT, EDIT)], initial=REVIEW, widget=forms.HiddenInput
    )

    def __init__(self, *args, ticket_ids: list[str], currency: str, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        tickets = self.fields["tickets"]
        if isinstance(tickets, forms.MultipleChoiceField):  # always: declared above
            tickets.choices = [(t, t) for t in ticket_ids]
        self.note_required = note_required
        if note_required:
            self.fields["note"].required = True
            self.fields["note"].error_messages["required"] = (
                "Say how the money went back (for example “Cash at the box office”)."
            )

    CHOICE_LABELS = {ALL: "Every ticket still valid", TICKETS: "Some tickets", AMOUNT: "An amount"}

    def clean(self):
        data = super().clean()
        what = data.get("what")
        self._refuse_conflicting_choice(what, data)
        if what == self.TICKETS and not data.get("tickets") and "tickets" not in self.errors:
            self.add_error("tickets", "Choose the tickets to refund.")
        if what == self.AMOUNT and "amount" not in self.errors:
            try:
                data["amount"] = parse_amount(data.get("amount") or "", self.currency)
            except OrderActionError as error:
                self.add_error("amount", "Enter the amount to refund." if not data.get("amount") else str(error))
        return data

    def _refuse_conflicting_choice(self, what: str | None, data: dict) -> None:
        """Ticked tickets or a typed amount that the chosen kind would ignore: refused, so a refund never covers
        more (or other) than what the agent marked on the form."""
        chosen = self.CHOICE_LABELS.get(what or "")
        if chosen is None:
            return
        ticked = len(set(data.get("tickets") or ()))  # a ticket ID posted twice is one ticket ticked
        if ticked and what != self.TICKETS:
            tickets, them, those = (
                ("1 ticket", "it", "that one") if ticked == 1 else (f"{ticked} tickets", "them", "those")
            )
            self.add_error(
                None,
                f"You ticked {tickets} but chose “{chosen}”, which would ignore {them}: choose “Some tickets” to "
                f"refund only {those}, or untick {them}.",
            )
        typed = (self.data.get("amount") or "").strip()
        if typed and what != self.AMOUNT:
            self.add_error(
                None,
                f"You typed an amount ({typed}) but chose “{chosen}”, which would ignore it: choose “An amount” to "
                "refund only that, or clear the amount.",
            )

    def refund_args(self) -> dict:
        """The chosen refund as `orders.refund_quote.refund_quote` and `order_refund` take it."""
        data = self.cleaned_data
        return {
            "tickets": data["tickets"] if data["what"] == self.TICKETS else (),
            "all_tickets": data["what"] == self.ALL,
            "include_booking_fee": data["include_booking_fee"] and data["what"] != self.AMOUNT,
            "amount": data["amount"] if data["what"] == self.AMOUNT else None,
        }

    def service_args(self) -> dict:
        """Everything `order_refund` takes from the form."""
        data = self.cleaned_data
        return {
            **self.refund_args(),
            "reason": data["reason"],
            "note": data["note"],
            "notify_customer": data["notify_customer"],
            "idempotency_key": data["idempotency_key"],
        }

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("step") == self.CONFIRM

    @property
    def editing(self) -> bool:
        """ "Change" on the review: the form again, filled in, without figures."""
        return self.cleaned_data.get("step") == self.EDIT


class CancelForm(IdempotentForm):
    """⋯ Cancel: an optional refund in the same step (everything, or an amount), why, the customer's email, and,
    when a ticket was already used at the door, the confirmation to cancel anyway."""

    NONE, ALL, AMOUNT = "none", "all", "amount"

    refund = forms.ChoiceField(
        choices=[(ALL, "Refund everything still refundable"), (AMOUNT, "Refund an amount"), (NONE, "No refund")],
        widget=forms.RadioSelect,
        initial=ALL,
        label="Refund",
    )
    amount = forms.CharField(required=False, max_length=20, label="Amount")
    include_booking_fee = forms.BooleanField(required=False, label="Refund the booking fee too")
    reason = forms.CharField(
        max_length=200, label="Reason", error_messages={"required": "Give a reason for the cancellation."}
    )
    note = forms.CharField(required=False, max_length=90, label="Note for the records")
    notify_customer = forms.BooleanField(
        required=False, initial=True, label="Email the customer that the order is cancelled"
    )
    used_confirmed = forms.BooleanField(required=False, label="Cancel anyway: the used tickets become invalid too")

    def __init__(
        self,
        *args,
        currency: str,
        can_refund: bool,
        note_required: bool = False,
        used_tickets: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.currency, self.can_refund, self.note_required = currency, can_refund, note_required
        self.used_tickets = used_tickets or []
        if not can_refund:
            for name in ("refund", "amount", "include_booking_fee", "note"):
                del self.fields[name]
        if not self.used_tickets:
            del self.fields["used_confirmed"]

    def clean(self):
        data = super().clean()
        refund = data.get("refund", self.NONE) if self.can_refund else self.NONE
        data["refund"] = refund
        if refund == self.AMOUNT and "amount" not in self.errors:
            try:
                data["amount"] = parse_amount(data.get("amount") or "", self.currency)
            except OrderActionError as error:
                self.add_error("amount", "Enter the amount to refund." if not data.get("amount") else str(error))
        if refund != self.NONE and self.note_required and not data.get("note"):
            self.add_error("note", "Say how the money went back (for example “Bank transfer on 3 Dec”).")
        return data

    def service_args(self) -> dict:
        """Everything `order_cancel` takes from the form."""
        data = self.cleaned_data
        refund = data["refund"]
        return {
            "refund": refund != self.NONE,
            "include_booking_fee": bool(data.get("include_booking_fee")) and refund == self.ALL,
            "amount": data.get("amount") if refund == self.AMOUNT else None,
            "reason": data["reason"],
            "note": data.get("note", ""),
            "notify_customer": data["notify_customer"],
            "used_confirmed": bool(data.get("used_confirmed")),
            "idempotency_key": data["idempotency_key"],
        }


class RetryForm(forms.Form):
    """The Retry button of a refund in "Refund error": it posts the key of the attempt that failed."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
