"""Render and send one message: the ticket email in HTML and plain text, with the PDF attached."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any, Literal

import requests
from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailAPIError, AnymailError, AnymailInvalidAddress, AnymailRecipientsRefused
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from urllib3.exceptions import NewConnectionError

from guests.verification import valid_for_words, verification_url
from orders.models import Refund
from organiser_portal.addresses import address_for_sending
from organiser_portal.money import money_format
from organiser_portal.times import local_text
from organiser_portal.tokens import (
    invitation_tokens,
    invitation_valid_for,
    member_link_parts,
    password_reset_tokens,
    password_reset_valid_for,
)
from tickets.links import link_url
from tickets.models import PersonalisationLink, Ticket, TicketReplacement
from tickets.pages import current_order_links, tickets_page_url
from tickets.pdf import order_tickets_pdf, pdf_filename, valid_tickets

from .models import OutgoingMessage
from .send_errors import (
    HandOverRefused as HandOverRefused,
)
from .send_errors import (
    OurSideConfigurationError as OurSideConfigurationError,
)
from .send_errors import (
    PermanentSendError as PermanentSendError,
)
from .send_errors import (
    TemporarySendError as TemporarySendError,
)
from .send_errors import (
    UnconfirmedSendError as UnconfirmedSendError,
)

METADATA_KEY = "portal_message_id"


# The setting that holds each service's credentials, named in the reason an agent and the operator read.
CREDENTIAL_SETTINGS = {
    "Postmark": "POSTMARK_SERVER_TOKEN",
    "Mailgun": "MAILGUN_API_KEY",
    "Amazon SES": "the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    "SendGrid": "SENDGRID_API_KEY",
    "Brevo": "BREVO_API_KEY",
    "Mailjet": "MAILJET_API_KEY and MAILJET_SECRET_KEY",
    "SparkPost": "SPARKPOST_API_KEY",
    "Resend": "RESEND_API_KEY",
    "MailerSend": "MAILERSEND_API_TOKEN",
    "Mandrill": "MANDRILL_API_KEY",
    "Postal": "POSTAL_API_KEY",
}


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str


def _account_context(message: OutgoingMessage) -> dict[str, Any]:
    """A member invitation's or password reset's link, made now (organiser_portal.tokens: signed, expiring,
    used once), on PORTAL_URL: the worker renders outside any request, and no usable token is ever stored."""
    user = message.user
    if user is None:
        raise PermanentSendError("The member this email was for no longer exists")
    invitation = message.kind == OutgoingMessage.Kind.MEMBER_INVITATION
    # An invitation to someone who has a login already (a member elsewhere) links to the login page.
    needs_password = not user.has_usable_password()
    if invitation and not needs_password:
        link = reverse("login")
    else:
        url_name, tokens = (
            ("invitation_accept", invitation_tokens)
            if invitation
            else ("password_reset_confirm", password_reset_tokens)
        )
        link = reverse(url_name, kwargs=member_link_parts(user, tokens))
    return {
        "member": user,
        "organisation": message.organisation,
        "invited_by": message.created_by,
        "link": f"{settings.PORTAL_URL}{link}",
        "sets_password": needs_password or not invitation,
        "valid_for": invitation_valid_for() if invitation else password_reset_valid_for(),
    }


def _build_account_email(message: OutgoingMessage) -> AnymailMessage:
    context = {"message": message, **_account_context(message)}
    return _email(message, message.kind, context, metadata={METADATA_KEY: str(message.pk)})


def _email(
    message: OutgoingMessage, template: str, context: dict[str, Any], metadata: dict[str, str]
) -> AnymailMessage:
    """The email from notifications/email/<template>{_subject.txt,.txt,.html} to the message's recipient."""
    subject = render_to_string(f"notifications/email/{template}_subject.txt", context).strip()
    email = AnymailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string(f"notifications/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address_for_sending(message.recipient)],
        metadata=metadata,
        tags=[message.kind],
    )
    email.attach_alternative(render_to_string(f"notifications/email/{template}.html", context), "text/html")
    return email


def _build_verification_email(message: OutgoingMessage) -> AnymailMessage:
    """A customer account's "confirm your address" email; its link is signed now (guests.verification)."""
    customer = message.customer
    if customer is None:
        raise PermanentSendError("The customer account this email was for no longer exists")
    context = {
        "message": message,
        "customer": customer,
        "organisation": message.organisation,
        "link": verification_url(customer),
        "valid_for": valid_for_words(),
    }
    return _email(message, message.kind, context, metadata={METADATA_KEY: str(message.pk)})


def build_email(message: OutgoingMessage) -> AnymailMessage:
    """The email for `message`; ticket emails carry every valid ticket of the order as one PDF, or with
    `pdf_attached` off only the link to the customer's tickets page (tickets.pages), which the email with the
    PDF carries as well; member invitations,
    password resets and customer verifications carry their link; "Find my tickets" the links to the recipient's
    current orders."""
    if message.kind in OutgoingMessage.ACCOUNT_KINDS:
        return _build_account_email(message)
    if message.kind == OutgoingMessage.Kind.CUSTOMER_VERIFICATION:
        return _build_verification_email(message)
    order = message.order  # message_claim loads it with its event and organisation: no queries here
    assert order is not None  # the table's check: only account emails are about no order
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
        # With the PDF too: a customer whose PDF doesn't open (or whose mailbox strips it) has the page.
        context["tickets_page_url"] = tickets_page_url(order)
        context["pdf_attached"] = message.pdf_attached
    elif message.kind in OutgoingMessage.ONE_TICKET_KINDS:
        tickets = [_replacement_ticket(message)]
        context.update(ticket=tickets[0], starts=local_text(order.event.starts_at, order.event.tzinfo))
    elif message.kind in (OutgoingMessage.Kind.REFUND_NOTICE, OutgoingMessage.Kind.CANCELLATION_NOTICE):
        context.update(_refund_context(message))
    elif message.kind == OutgoingMessage.Kind.TICKETS_LINKS:
        context.update(_tickets_links_context(message))
    elif message.kind == OutgoingMessage.Kind.PERSONALISATION_REQUEST:
        context.update(_personalisation_context(message))
        with translation.override(context["language"]):
            return _email(message, message.kind, context, metadata={METADATA_KEY: str(message.pk), "order": order.code})
    template = "tickets" if message.kind in OutgoingMessage.TICKET_KINDS else message.kind
    template = "one_ticket" if message.kind in OutgoingMessage.ONE_TICKET_KINDS else template
    email = _email(message, template, context, metadata={METADATA_KEY: str(message.pk), "order": order.code})
    if tickets and message.pdf_attached:
        one = tickets[0] if message.kind in OutgoingMessage.ONE_TICKET_KINDS else None
        email.attach(pdf_filename(order, one), order_tickets_pdf(order, tickets), "application/pdf")
    return email


def _replacement_ticket(message: OutgoingMessage) -> Ticket:
    """The new ticket a transfer or reissue email carries: its key is "transfer:<id>" or "reissue:<id>" of the
    TicketReplacement (tickets.transfers.replacement_email_key). Not sent once that ticket is no longer valid
    (a transfer cancelled before the email went out)."""
    kind, _, pk = message.idempotency_key.partition(":")
    replacement = (
        TicketReplacement.objects.filter(order=message.order, kind=kind, pk=int(pk))
        .select_related("new_ticket__ticket_type")
        .first()
        if pk.isdigit()
        else None
    )
    if replacement is None:
        raise PermanentSendError("The ticket this email was for no longer exists")
    ticket = replacement.new_ticket
    if not ticket.is_valid:
        raise PermanentSendError(f"Ticket {ticket.public_id} is {ticket.display_status.lower()}: not sent")
    return ticket


def _tickets_links_context(message: OutgoingMessage) -> dict[str, Any]:
    """ "Find my tickets": the recipient's current orders' links, as of sending; none left (all refunded since)
    sends nothing."""
    if not (links := current_order_links(message.organisation_id or 0, message.recipient)):
        raise PermanentSendError("The address has no current order any more")
    return {"links": links}


def _refund_context(message: OutgoingMessage) -> dict[str, Any]:
    """The refund a refund or cancellation email tells of: its key is the message's, after the kind's prefix
    ("refund:<key>", "cancel:<key>", written by orders.refund_emails and orders.services.order_cancel)."""
    order = message.order
    key = message.idempotency_key.partition(":")[2]
    refund = Refund.objects.filter(order=order, idempotency_key=key).select_related("payment").first() if key else None
    if refund is None or order is None:
        return {"refund": None}
    payment = refund.payment
    return {
        "refund": refund,
        "amount": money_format(refund.amount, order.currency),
        "booking_fee_kept": money_format(refund.booking_fee_kept, order.currency) if refund.booking_fee_kept else "",
        "paid_with": (payment.method or payment.provider) if payment else "",
        "refunded_tickets": list(refund.tickets.order_by("id")),
    }


def _personalisation_context(message: OutgoingMessage) -> dict[str, Any]:
    """The link a personalisation request carries, signed now (tickets.links): its id follows the kind's prefix
    in the message's key ("personalise:<id>", written by tickets.personalisation.personalisation_link_send)."""
    order = message.order
    link_id = message.idempotency_key.partition(":")[2]
    link = PersonalisationLink.objects.filter(order=order, pk=int(link_id)).first() if link_id.isdigit() else None
    if link is None or order is None:
        raise PermanentSendError("The attendee details link this email was for no longer exists")
    tickets = order.tickets.filter(status=Ticket.Status.VALID, ticket_type__requires_personal_data=True).count()
    with translation.override(link.language):
        until = local_text(link.expires_at, order.event.tzinfo)
    return {
        "link": link_url(link),
        "language": link.language,
        "tickets_needing": tickets,
        "valid_until": until,
    }


def _is_permanent(error: AnymailAPIError) -> bool:
    status = getattr(error, "status_code", None)
    return status is not None and 400 <= status < 500 and status not in (408, 429)


def never_sent(error: Exception) -> bool:
    """Whether a failed HTTP request surely never reached the email service: the connection was not made."""
    for failure in (error, error.__cause__):  # anymail raises its own error from requests' one
        if isinstance(failure, requests.ConnectTimeout):
            return True
        if isinstance(failure, requests.ConnectionError) and failure.args:
            reason = getattr(failure.args[0], "reason", failure.args[0])  # urllib3's MaxRetryError wraps it
            if isinstance(reason, NewConnectionError):  # refused, unreachable, name not found
                return True
    return False


def _api_error(error: AnymailAPIError, service: str) -> Exception:
    """What an error from the email service's API means: our credentials, a refusal, worth a retry (it surely
    did not take the message), or unconfirmed (it may have)."""
    status = getattr(error, "status_code", None)
    first_line = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    if status in (401, 403):
        setting = CREDENTIAL_SETTINGS.get(service, f"the {service} credentials in ANYMAIL")
        return OurSideConfigurationError(f"The email service refused our credentials ({status}): check {setting}")
    if _is_permanent(error):
        return PermanentSendError(f"The email service refused the message ({status}): {first_line}")
    if status is not None and status < 300:
        return UnconfirmedSendError(f"The email service's answer ({status}) could not be read")
    if status is not None:
        return TemporarySendError(f"The email service had an error of its own ({status})")
    if never_sent(error):
        return TemporarySendError("The email service could not be reached")
    if isinstance(error, requests.Timeout):
        return UnconfirmedSendError("The email service did not answer in time")
    return UnconfirmedSendError(f"The email service's answer was lost: {first_line}")


def _smtp_error(error: Exception) -> Exception:
    """What a mail server's error after the hand-over means (the connection was opened before it)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return PermanentSendError("Address refused by the mail server", status="rejected")
    if isinstance(error, smtplib.SMTPResponseException):  # it answered: it did not take the message
        if error.smtp_code >= 500:
            return PermanentSendError(f"The mail server refused the message ({error.smtp_code})")
        return TemporarySendError(f"The mail server had an error of its own ({error.smtp_code})")
    return UnconfirmedSendError(f"The mail server's answer was lost: {type(error).__name__}")


def _open(connection: Any) -> None:
    """Open the connection before the hand-over, so a server that can't be reached is a plain retry."""
    try:
        connection.open()
    except smtplib.SMTPAuthenticationError as error:
        reason = f"The mail server refused our credentials ({error.smtp_code}): check EMAIL_HOST_USER and EMAIL_HOST_PASSWORD"
        raise OurSideConfigurationError(reason) from error
    except ImproperlyConfigured as error:
        reason = f"The email service is not configured: {str(error).splitlines()[0]}"
        raise OurSideConfigurationError(reason[:300]) from error
    except (OSError, smtplib.SMTPException) as error:
        raise TemporarySendError(f"The mail server could not be reached: {type(error).__name__}") from error


def send_email(message: OutgoingMessage, *, hand_over: Callable[[], bool]) -> SendResult:
    """Build the message's email and send it through the configured backend.

    `hand_over` is called just before the email service is called (everything that can fail without sending
    is done by then); when it answers False nothing is sent (HandOverRefused). Raises PermanentSendError for
    refusals ("rejected" when the service refused the address), its subclass OurSideConfigurationError when
    the service isn't configured or refused our credentials, TemporarySendError when the service surely did
    not take the message (worth trying again), and UnconfirmedSendError when it was handed over and the answer
    was lost (it may have taken it).
    """
    email = build_email(message)
    try:
        connection = get_connection()
    except ImproperlyConfigured as error:  # anymail's AnymailConfigurationError too: a missing API key
        reason = f"The email service is not configured: {str(error).splitlines()[0]}"
        raise OurSideConfigurationError(reason[:300]) from error
    is_anymail = isinstance(connection, AnymailBaseBackend)
    if not is_anymail:
        # Local backends (file, SMTP) report no ID: give the message one the webhooks can match.
        email.extra_headers["Message-ID"] = make_msgid(domain="portal.local")
    email.connection = connection
    service = connection.esp_name if is_anymail else "the mail server"
    _open(connection)
    try:
        if not hand_over():
            raise HandOverRefused(f"Message {message.pk} is no longer in this try")
        try:
            email.send()
        except AnymailRecipientsRefused as error:
            raise PermanentSendError(f"Address refused by the email service: {error}", status="rejected") from error
        except AnymailInvalidAddress as error:
            raise PermanentSendError(f"Invalid address: {error}", status="rejected") from error
        except AnymailAPIError as error:
            raise _api_error(error, service) from error
        except ImproperlyConfigured as error:  # anymail checks its settings before any request
            reason = f"The email service is not configured: {str(error).splitlines()[0]}"
            raise OurSideConfigurationError(reason[:300]) from error
        except AnymailError as error:  # serialising, an unsupported feature: raised before any request
            raise TemporarySendError(f"Sending error on our side: {error}".splitlines()[0][:200]) from error
        except smtplib.SMTPAuthenticationError as error:
            reason = f"The mail server refused our credentials ({error.smtp_code}): check EMAIL_HOST_USER and EMAIL_HOST_PASSWORD"
            raise OurSideConfigurationError(reason) from error
        except (OSError, smtplib.SMTPException) as error:
            raise _smtp_error(error) from error
    finally:
        connection.close()
    if is_anymail:
        message_id = email.anymail_status.message_id
        return SendResult(connection.esp_name, "" if message_id is None else str(message_id))
    return SendResult(type(connection).__module__.rsplit(".", 1)[-1], email.extra_headers["Message-ID"])


def service_lookup(message: OutgoingMessage) -> SendResult | Literal[False] | None:
    """Ask the email service whether it took the message: its SendResult when it did, False when it surely did
    not, None when it can't tell. Only a backend with an `accepted(message_id)` method can tell (the sandbox,
    which is ours); the email services anymail supports can't, so their answer is None."""
    try:
        connection = get_connection()
    except ImproperlyConfigured:
        return None
    lookup = getattr(connection, "accepted", None)
    if lookup is None:
        return None
    found = lookup(message.pk)
    return SendResult(found[0], found[1]) if found else False
