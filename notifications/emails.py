"""Render and send one message: the ticket email in HTML and plain text, with the PDF attached."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection
from django.template.loader import render_to_string

from organiser_portal.addresses import address_for_sending
from organiser_portal.times import local_text
from tickets.models import Ticket
from tickets.pdf import order_tickets_pdf, pdf_filename, valid_tickets

from .models import OutgoingMessage

METADATA_KEY = "portal_message_id"


class PermanentSendError(Exception):
    """The email service refused the message for good (bad or suppressed address, nothing to send)."""

    def __init__(self, reason: str, *, status: str = OutgoingMessage.Status.FAILED):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str


def build_email(message: OutgoingMessage) -> AnymailMessage:
    """The email for `message`; ticket emails carry every valid ticket of the order as one PDF."""
    order = message.order  # message_claim loads it with its event and organisation: no queries here
    context: dict[str, Any] = {
        "order": order,
        "event": order.event,
        "message": message,
        "organisation": order.organisation,
    }
    tickets: list[Ticket] = []
    if message.kind in OutgoingMessage.TICKET_KINDS:
        tickets = valid_tickets(order)
        if not tickets:
            raise PermanentSendError("No valid ticket to send")
        context["tickets"] = tickets
        # The worker renders outside any page: the start is written on the event's clocks here, with its label.
        context["starts"] = local_text(order.event.starts_at, order.event.tzinfo)
    template = "tickets" if message.kind in OutgoingMessage.TICKET_KINDS else message.kind
    subject = render_to_string(f"notifications/email/{template}_subject.txt", context).strip()
    email = AnymailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string(f"notifications/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address_for_sending(message.recipient)],
        metadata={METADATA_KEY: str(message.pk), "order": order.code},
        tags=[message.kind],
    )
    email.attach_alternative(render_to_string(f"notifications/email/{template}.html", context), "text/html")
    if tickets:
        email.attach(pdf_filename(order), order_tickets_pdf(order, tickets), "application/pdf")
    return email


def _is_permanent(error: AnymailAPIError) -> bool:
    status = getattr(error, "status_code", None)
    return status is not None and 400 <= status < 500 and status not in (408, 429)


def send_email(message: OutgoingMessage) -> SendResult:
    """Send through the configured backend. Raises PermanentSendError for refusals; anything else is temporary."""
    email = build_email(message)
    connection = get_connection()
    is_anymail = isinstance(connection, AnymailBaseBackend)
    if not is_anymail:
        # Local backends (file, SMTP) report no ID: give the message one the webhooks can match.
        email.extra_headers["Message-ID"] = make_msgid(domain="portal.local")
    email.connection = connection
    try:
        email.send()
    except AnymailRecipientsRefused as error:
        raise PermanentSendError(f"Address refused by the email service: {error}", status="rejected") from error
    except AnymailInvalidAddress as error:
        raise PermanentSendError(f"Invalid address: {error}") from error
    except AnymailAPIError as error:
        if _is_permanent(error):
            raise PermanentSendError(str(error).splitlines()[0][:300]) from error
        raise
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentSendError("Address refused by the mail server", status="rejected") from error
    if is_anymail:
        message_id = email.anymail_status.message_id
        return SendResult(connection.esp_name, "" if message_id is None else str(message_id))
    return SendResult(type(connection).__module__.rsplit(".", 1)[-1], email.extra_headers["Message-ID"])
