"""Send one SMS: its text, the SMS provider (SMS_PROVIDER: the sandbox, or Twilio), and what each error means.

An SMS is an OutgoingMessage with channel "sms" and its number in E.164 as recipient; it goes through the same
outbox as an email (claim, hand-over, send, record, retry, the sweeper: docs/reliability.md "SMS"), so
`send_sms` raises the same errors as `notifications.emails.send_email`. The provider reports what happened to
it by posting to the status webhook (notifications.sms_webhooks), whose URL carries our message id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from organiser_portal.times import local_text
from tickets.pages import tickets_page_url

from .emails import (
    HandOverRefused,
    OurSideConfigurationError,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    UnconfirmedSendError,
    never_sent,
)
from .models import OutgoingMessage
from .sms_sandbox import SandboxProvider

STATUS_WEBHOOK_URL_NAME = "sms_status_webhook"

# Twilio's error codes an agent meets (https://www.twilio.com/docs/api/errors), in words the order page shows.
ERROR_WORDS: dict[str, str] = {
    "21211": "the number is not a valid phone number",
    "21408": "SMS to this country are not enabled in the Twilio account",
    "21610": "the recipient unsubscribed (replied STOP)",
    "21612": "Twilio can't route an SMS from our number to this one",
    "21614": "the number is not a mobile number",
    "30001": "the SMS provider's queue overflowed",
    "30002": "the Twilio account is suspended",
    "30003": "the phone is switched off or out of coverage",
    "30004": "the recipient or their carrier blocks the SMS",
    "30005": "the number is unknown to its carrier: it may not exist",
    "30006": "the number is a landline or its carrier can't take SMS",
    "30007": "the carrier filtered the SMS as spam",
    "30008": "unknown error at the carrier",
    "30034": "our sender number is not registered for SMS to this country",
}
# Codes that say the number itself is wrong ("bounced": ask the guest for another number); the others fail
# with the reason, never blamed on the number.
WRONG_NUMBER_CODES = frozenset({"21211", "21614", "30005", "30006"})
# Codes refused when sending that are about our account or settings, not the number: a person must fix them.
OUR_SIDE_CODES = frozenset({"20003", "20404", "21212", "21606", "21408", "30002", "30034"})


def error_reason(code: str, fallback: str = "") -> str:
    """Twilio's error `code` in words: "Twilio 30005: the number is unknown to its carrier: it may not exist"."""
    words = ERROR_WORDS.get(code) or fallback or "see Twilio's error list"
    return f"Twilio {code}: {words}" if code else words


# The SMS's date: short, as a phone shows it ("Sat 7 Mar 2026, 19:00"), to leave room for the link.
SMS_DATE_FORMAT = "D j M Y, H:i"


def sms_body(message: OutgoingMessage) -> str:
    """The SMS's text: the event, its start, and the link to the order's tickets page; short enough for 2 parts.

    The fixed words are GSM-7 only (no dash, quote or ellipsis outside it), so an SMS whose names are too is
    sent in GSM-7: 160 characters in one part, 153 a part in more; one character outside GSM-7 (in a name)
    makes the whole SMS UCS-2, 70 and 67."""
    order = message.order
    if order is None:
        raise PermanentSendError("An SMS is always about an order")
    event = order.event
    starts = local_text(event.starts_at, event.tzinfo, SMS_DATE_FORMAT)
    return (
        f"Tickets for {event.name[:60]}, {starts}, order {order.code}: {tickets_page_url(order)}"
        f" - {order.organisation.name[:40]}"
    )


def status_callback_url(message: OutgoingMessage) -> str:
    """Where the provider posts its status reports: absolute, on PORTAL_URL, carrying our message id (Twilio
    signs exactly this URL, so the webhook checks the signature against it)."""
    return f"{settings.PORTAL_URL}{reverse(STATUS_WEBHOOK_URL_NAME)}?message={message.pk}"


class SmsProvider(Protocol):
    """What the outbox needs from an SMS provider."""

    name: str

    def send(self, *, message_id: int, to: str, body: str, status_callback: str) -> str:
        """Hand the SMS over; its id at the provider. Raises the errors of notifications.emails (send_sms)."""
        ...

    def accepted(self, message_id: int) -> SendResult | Literal[False] | None:
        """Whether the provider took message `message_id`: its SendResult, False when surely not, None when it
        can't tell."""
        ...


class TwilioProvider:
    """Twilio's Messages API through the official `twilio` package.

    Twilio takes no idempotency key on a new message and can't be searched by our id: a try whose answer was
    lost is settled by the status callback (its URL names our message) or sent once more after
    EMAIL_UNCONFIRMED_RESEND_AFTER (docs/reliability.md "SMS").
    """

    name = "Twilio"

    def _client(self) -> Client:
        http_client = TwilioHttpClient(timeout=settings.SMS_SERVICE_TIMEOUT)
        return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)

    def send(self, *, message_id: int, to: str, body: str, status_callback: str) -> str:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM}
        )
        try:
            created = self._client().messages.create(to=to, body=body, status_callback=status_callback, **sender)
        except TwilioRestException as error:
            raise twilio_error(error) from error
        except requests.RequestException as error:
            if never_sent(error):
                raise TemporarySendError("The SMS provider could not be reached") from error
            if isinstance(error, requests.Timeout):
                raise UnconfirmedSendError("The SMS provider did not answer in time") from error
            raise UnconfirmedSendError(f"The SMS provider's answer was lost: {type(error).__name__}") from error
        except ValueError as error:  # a 2xx whose JSON could not be read: it may have taken it
            raise UnconfirmedSendError("The SMS provider's answer could not be read") from error
        return str(created.sid or "")

    def accepted(self, message_id: int) -> None:
        return None


def twilio_error(error: TwilioRestException) -> Exception:
    """What Twilio's refusal of a new message means: our credentials or settings, the number, or worth a retry."""
    status, code = error.status, str(error.code or "")
    if status in (401, 403) or code in OUR_SIDE_CODES:
        words = (
            "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            if status in (401, 403)
            else ERROR_WORDS.get(code, "check the Twilio account and TWILIO_FROM")
        )
        return OurSideConfigurationError(f"Twilio refused the SMS ({status}, {code or 'no code'}): {words}"[:300])
    if code in WRONG_NUMBER_CODES or code == "21610":
        return PermanentSendError(error_reason(code), status=OutgoingMessage.Status.REJECTED)
    if 400 <= status < 500 and status not in (408, 429):
        first_line = str(error.msg or "").splitlines()[0][:200] if error.msg else ""
        return PermanentSendError(f"Twilio refused the SMS ({status}): {error_reason(code, first_line)}"[:300])
    return TemporarySendError(f"The SMS provider had an error of its own ({status})")


def sms_provider() -> SmsProvider:
    """The provider SMS_PROVIDER names (settings refuse any other)."""
    return TwilioProvider() if settings.SMS_PROVIDER == "twilio" else SandboxProvider()


def send_sms(message: OutgoingMessage, *, hand_over: Callable[[], bool]) -> SendResult:
    """Send the message's SMS through the provider; `hand_over` is called just before the provider is called (when
    it answers False nothing is sent: HandOverRefused). Raises what notifications.emails.send_email raises."""
    body = sms_body(message)
    provider = sms_provider()
    callback = status_callback_url(message)
    if not hand_over():
        raise HandOverRefused(f"Message {message.pk} is no longer in this try")
    sid = provider.send(message_id=message.pk, to=message.recipient, body=body, status_callback=callback)
    return SendResult(provider.name, sid)


def sms_lookup(message: OutgoingMessage) -> SendResult | Literal[False] | None:
    """Ask the SMS provider whether it took the message (the sandbox can tell; Twilio can't: None)."""
    return sms_provider().accepted(message.pk)
