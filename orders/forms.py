"""Forms of the order actions. They parse and validate input; the services decide and write."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError

from organiser_portal.addresses import AddressError, address_normalise, invisible_message
from organiser_portal.phones import phone_international, sms_number


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
