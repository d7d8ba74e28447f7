"""Forms of the order actions. They parse and validate input; the services decide and write."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError

from organiser_portal.addresses import AddressError, address_normalise, invisible_message
from organiser_portal.phones import phone_international, sms_number

from .errors import OrderActionError
from .refund_quote import parse_amount


class AddressCleaned(ValidationError):
    """Refused once because invisible characters were removed: the form shows the cleaned address back."""

    def __init__(self, message: str, *, cleaned: str):
        super().__init__(message, code="invisible")
        self.cleaned = cleaned


class EmailAddressField(forms.CharField):
    """An email address under organiser_portal.addresses' rule, cleaned to the form it is stored in.

    `unchanged` is the address already stored: submitted as it is, it passes without the rule,
    so an address saved before the rule never blocks editing the name or the phone.
    """

    def __init__(self, *, unchanged: str | None = None, **kwargs):
        kwargs.setdefault("error_messages", {}).setdefault("required", "Enter an email address.")
        super().__init__(**kwargs)
        self.unchanged = unchanged

    def clean(self, value):
        value = super().clean(value)
        if self.unchanged and value == self.unchanged.strip():
            return self.unchanged
        if not value:
            return value
        try:
            address = address_normalise(value)
        except AddressError as error:
            raise ValidationError(str(error), code="invalid") from None
        if address.removed:
            raise AddressCleaned(invisible_message(address), cleaned=address.value)
        return address.value


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class IdempotentForm(forms.Form):
    """Carries a token minted when the confirmation page is shown: a double submit sends the same token."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", new_idempotency_key())
        super().__init__(*args, **kwargs)

    def add_error(self, field, error):
        if isinstance(error, AddressCleaned) and field:
            # Shown back in the field, so what the agent confirms next is what gets saved.
            self.data = self.data.copy()
            self.data[self.add_prefix(field)] = error.cleaned
        super().add_error(field, error)


class ResendForm(IdempotentForm):
    TO_CONTACT, TO_OTHER = "contact", "other"

    send_to = forms.ChoiceField(
        choices=[(TO_CONTACT, "The order's contact email"), (TO_OTHER, "Another address, once")],
        widget=forms.RadioSelect,
        initial=TO_CONTACT,
    )
    other_email = EmailAddressField(
        required=False,
        label="Other address",
        help_text="Only this resend goes there; the order's contact stays as it is.",
    )

    confirm_complaint = forms.BooleanField(
        required=False, label="The guest asked for the tickets again: resend to the address that marked them as spam"
    )
    confirm_suppressed = forms.BooleanField(
        required=False, label="Send to this address anyway: I know why it is on the suppression list"
    )
    WITH_PDF, WITH_LINK = "pdf", "link"
    attachment = forms.ChoiceField(
        choices=[
            (WITH_PDF, "With the PDF tickets attached"),
            (WITH_LINK, "Send without the PDF (link to the tickets page)"),
        ],
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(
        self,
        *args,
        contact_email: str = "",
        complained: frozenset[str] = frozenset(),
        offers_without_pdf: bool = False,
        suppressed: frozenset[str] = frozenset(),
        **kwargs,
    ):
        """`complained`: this order's addresses that marked an email as spam; `suppressed`: the addresses (lower
        case) among the contact and the typed one that are on the organisation's suppression list;
        `offers_without_pdf`: only where orders.rules.offer_without_pdf (or the event's setting) offers the choice,
        else the email is as the event says."""
        super().__init__(*args, **kwargs)
        self.contact_email, self.complained, self.suppressed = contact_email, complained, suppressed
        self.offers_without_pdf = offers_without_pdf

    def clean(self):
        data = super().clean()
        # An address that failed validation already says why; don't add "enter one" on top.
        if data.get("send_to") == self.TO_OTHER and not data.get("other_email") and "other_email" not in self.errors:
            self.add_error("other_email", "Enter the address to send the tickets to.")
        # A resend to an address that complained must be deliberate: the box, not a habitual click.
        to = data.get("other_email") if data.get("send_to") == self.TO_OTHER else self.contact_email
        if to and to.lower() in self.complained and not data.get("confirm_complaint"):
            self.add_error(
                "confirm_complaint", f"{to} marked the tickets email as spam: tick the box to resend to it anyway."
            )
        # Either box makes the resend deliberate, as in orders.services.order_resend_tickets.
        elif (
            to
            and to.lower() in self.suppressed
            and not (data.get("confirm_suppressed") or data.get("confirm_complaint"))
        ):
            self.add_error(
                "confirm_suppressed",
                f"{to} is on the suppression list: tick the box to send to it anyway, or choose another way.",
            )
        return data

    @property
    def recipient(self) -> str:
        return self.cleaned_data["other_email"] if self.cleaned_data["send_to"] == self.TO_OTHER else ""

    @property
    def pdf_attached(self) -> bool | None:
        """The choice made, or None (the event's setting) where the dialog doesn't offer one."""
        chosen = self.cleaned_data.get("attachment") if self.offers_without_pdf else ""
        return None if not chosen else chosen == self.WITH_PDF


class SmsForm(IdempotentForm):
    """Resend by SMS: the order's phone or a number typed in once, read in the event's country (`region`) unless
    written with +…. Posted first to show the number in international form, then again with `confirm` to send."""

    TO_ORDER, TO_OTHER = "order", "other"

    send_to = forms.ChoiceField(
        choices=[(TO_ORDER, "The order's phone"), (TO_OTHER, "Another number, once")],
        widget=forms.RadioSelect,
        initial=TO_ORDER,
    )
    other_phone = forms.CharField(required=False, max_length=40, label="Other number")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, order_phone: str = "", region: str = "", **kwargs):
        if not order_phone:
            kwargs.setdefault("initial", {}).setdefault("send_to", self.TO_OTHER)
        super().__init__(*args, **kwargs)
        self.order_phone, self.region = order_phone, region

    def clean(self):
        data = super().clean()
        other = data.get("send_to") == self.TO_OTHER
        field = "other_phone" if other else "send_to"
        raw = data.get("other_phone", "") if other else self.order_phone
        if not other and not raw:
            self.add_error(field, "The order has no phone number: choose another number and type it in.")
            return data
        try:
            data["number"] = sms_number(raw, self.region)
        except ValidationError as error:
            self.add_error(field, error)
        return data

    @property
    def number_shown(self) -> str:
        """The cleaned number in international form ("+49 151 23456789")."""
        return phone_international(self.cleaned_data["number"])


class ContactForm(IdempotentForm):
    contact_name = forms.CharField(label="Name", max_length=200)
    contact_email = EmailAddressField(label="Email")
    contact_phone = forms.CharField(label="Phone", max_length=40, required=False)
    resend_tickets = forms.BooleanField(
        label="Resend the tickets to this address",
        required=False,
        help_text="Queues one email with every valid ticket.",
    )

    def __init__(self, *args, email_locked_reason: str | None = None, can_resend: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_email"].unchanged = self.initial.get("contact_email")  # type: ignore[attr-defined]
        if email_locked_reason:
            field = self.fields["contact_email"]
            field.disabled = True
            field.help_text = email_locked_reason
        if not can_resend:
            del self.fields["resend_tickets"]


class FixAndResendForm(IdempotentForm):
    contact_email = EmailAddressField(widget=forms.HiddenInput)


class ConfirmForm(IdempotentForm):
    """A confirmation with nothing to fill in."""


class TransferForm(IdempotentForm):
    """A ticket's new holder (tickets.transfers.ticket_transfer)."""

    name = forms.CharField(label="New holder's name", max_length=200)
    email = EmailAddressField(label="New holder's email", help_text="The new ticket is emailed here, as a PDF.")


class ReissueForm(IdempotentForm):
    send_email = forms.BooleanField(label="Email the new ticket to its holder", required=False, initial=True)


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
