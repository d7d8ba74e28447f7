"""The sandbox email service of the embedded default (EMAIL_SERVICE=sandbox): nothing leaves the machine.

Each message is written to EMAIL_FILE_PATH (var/mail/) where a person can read it, and a moment later
(EMAIL_SANDBOX_DELAY) the sandbox reports what happened to it, as Postmark would: the report is posted to
the mounted Postmark tracking webhook, so anymail checks the webhook secret, parses it and sends its
tracking signal, and notifications.webhooks records it exactly as a real service's report.

What happens depends on the address (the `.example` domain is reserved and never receives mail):

    bounce@sandbox.example       hard bounce: 550 5.1.1, the address does not exist
    soft-bounce@sandbox.example  soft bounce: 452 4.2.2 mailbox full, reported as deferred
    complaint@sandbox.example    delivered, then marked as spam
    pdf-blocked@sandbox.example  an email with a PDF attached is blocked (550 5.7.1, "rejected"); without, delivered
    a typo'd domain (gmial.com, gmail.con … anything the bounce banner would correct): hard bounce
    any other address            delivered

With tasks in process (no REDIS_URL) the report comes from a timer thread in the same process; with a
worker it is a Celery task with a countdown. `manage.py simulate_delivery` plays a chosen report by hand.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from anymail.utils import get_anymail_setting
from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.db import OperationalError, connections
from django.test import RequestFactory
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone

from orders.email_typos import suggest_email

from .emails import METADATA_KEY
from .models import OutgoingMessage

log = logging.getLogger(__name__)

OUTCOMES = ("delivered", "bounced", "deferred", "opened", "complained", "blocked")
SANDBOX_DOMAIN = "sandbox.example"
TEST_ADDRESSES: dict[str, tuple[str, ...]] = {
    f"bounce@{SANDBOX_DOMAIN}": ("bounced",),
    f"soft-bounce@{SANDBOX_DOMAIN}": ("deferred",),
    f"complaint@{SANDBOX_DOMAIN}": ("delivered", "complained"),
}
# Blocks emails carrying a PDF, as some mailbox providers do from unknown senders: the tickets email without
# the PDF (the tickets page link instead) gets through.
PDF_BLOCKED_ADDRESS = f"pdf-blocked@{SANDBOX_DOMAIN}"
SANDBOX_REPORT_TASK = "notifications.tasks.sandbox_report"
WEBHOOK_URL_NAME = "anymail:postmark_tracking_webhook"


def sandbox_outcomes(recipient: str, *, pdf_attached: bool = False) -> tuple[str, ...]:
    """What the sandbox reports for a message to `recipient` (with a PDF attached or not), in order."""
    address = recipient.strip().lower()
    if address == PDF_BLOCKED_ADDRESS:
        return ("blocked",) if pdf_attached else ("delivered",)
    if address in TEST_ADDRESSES:
        return TEST_ADDRESSES[address]
    return ("bounced",) if suggest_email(address) else ("delivered",)


def postmark_payload(message: OutgoingMessage, outcome: str) -> dict:
    """The tracking webhook body Postmark posts when `outcome` happened to the message."""
    now = timezone.now().isoformat().replace("+00:00", "Z")
    common = {
        "MessageStream": "outbound",
        "MessageID": message.provider_message_id or str(uuid.uuid4()),
        "Metadata": {METADATA_KEY: str(message.pk), "order": message.order.code if message.order else ""},
        "Tag": message.kind,
        "ServerID": 0,
    }
    if outcome == "delivered":
        return {
            **common,
            "RecordType": "Delivery",
            "Recipient": message.recipient,
            "DeliveredAt": now,
            "Details": "250 2.0.0 OK (sandbox)",
        }
    if outcome == "opened":
        return {**common, "RecordType": "Open", "Recipient": message.recipient, "ReceivedAt": now, "FirstOpen": True}
    typo = outcome == "bounced" and suggest_email(message.recipient)
    bounce_types = {
        "bounced": (
            "HardBounce",
            1,
            "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            "550 5.1.2 domain not found (sandbox)" if typo else "550 5.1.1 mailbox does not exist (sandbox)",
        ),
        "deferred": (
            "Transient",
            2,
            "Message delayed / Transient",
            "452 4.2.2 mailbox full, try again later (sandbox)",
        ),
        "complained": ("SpamComplaint", 512, "The subscriber explicitly marked this message as spam.", "sandbox"),
        "blocked": (
            "Blocked",
            100000,
            "ISP block: the receiving server blocked the message.",
            "550 5.7.1 Message blocked: PDF attachments from unknown senders are not accepted (sandbox)",
        ),
    }
    kind, code, description, details = bounce_types[outcome]
    return {
        **common,
        "RecordType": "SpamComplaint" if outcome == "complained" else "Bounce",
        "ID": uuid.uuid4().int % 10**15,
        "Type": kind,
        "TypeCode": code,
        "Description": description,
        "Details": details,
        "Email": message.recipient,
        "BouncedAt": now,
    }


def delivery_report_post(message: OutgoingMessage, outcome: str) -> int:
    """Post the report to the mounted Postmark tracking webhook with the configured secret; its HTTP status.

    The URL is resolved as a request's would be, so a webhook that isn't mounted is a 404 here too.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    try:
        url = reverse(WEBHOOK_URL_NAME)
    except NoReverseMatch:
        return 404
    headers: dict[str, Any] = {}
    secret = get_anymail_setting("webhook_secret", default=None)
    if secret:
        secret = secret[0] if isinstance(secret, list) else secret
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(secret.encode()).decode()
    body = json.dumps(postmark_payload(message, outcome))
    request = RequestFactory().post(url, body, content_type="application/json", **headers)
    match = resolve(url)
    return match.func(request, *match.args, **match.kwargs).status_code


def sandbox_report(*, message_id: int) -> list[int]:
    """Report what happened to the message (by its address) through the webhook; the HTTP statuses."""
    message = OutgoingMessage.objects.select_related("order").filter(pk=message_id).first()
    if message is None:
        return []
    pdf = message.pdf_attached and message.kind in OutgoingMessage.TICKET_KINDS | OutgoingMessage.ONE_TICKET_KINDS
    outcomes = sandbox_outcomes(message.recipient, pdf_attached=pdf)
    statuses = [delivery_report_post(message, outcome) for outcome in outcomes]
    if any(status != 200 for status in statuses):
        log.warning("The sandbox's delivery report for message %s was answered %s", message_id, statuses)
    return statuses


# Tries of a timer thread's report: on the embedded default SQLite refuses a writer while another writes ("database
# is locked", as during a bulk send), so the report waits and tries again (a report is stored once however often).
REPORT_TRIES = 6


def _report_in_thread(report: Callable[..., object], message_id: int) -> None:
    try:
        for attempt in range(REPORT_TRIES):
            try:
                report(message_id=message_id)
                return
            except OperationalError:
                if attempt == REPORT_TRIES - 1:
                    raise
                connections.close_all()
                time.sleep(0.25 * 2**attempt)
    except Exception:
        log.exception("The sandbox could not report on message %s", message_id)
    finally:
        connections.close_all()  # this thread's connections only


def sandbox_report_later(
    *,
    message_id: int,
    report: Callable[..., object] | None = None,
    task: str = SANDBOX_REPORT_TASK,
    delay: float | None = None,
) -> None:
    """In a moment, report on the message: from a timer thread when tasks run in process, else a worker.

    `report` (a function of message_id, the email sandbox's by default) is what the timer runs; `task` names the
    Celery task that runs it on a worker; `delay` in seconds (EMAIL_SANDBOX_DELAY by default)."""
    delay = settings.EMAIL_SANDBOX_DELAY if delay is None else delay
    if current_app.conf.task_always_eager:
        # An eager task would run now, inside the send, before the message is even marked sent.
        # Not a daemon: a short command (a shell, a script) still gets its report before the process ends.
        threading.Timer(delay, _report_in_thread, args=(report or sandbox_report, message_id)).start()
    else:
        current_app.signature(task, args=(message_id,)).apply_async(countdown=delay, retry=False)


def _accepted_path(message_id: int) -> Path:
    """Beside EMAIL_FILE_PATH, not in it: that folder holds only the messages a person reads."""
    folder = Path(settings.EMAIL_FILE_PATH)
    return folder.with_name(f"{folder.name}.accepted") / str(message_id)


class EmailBackend(FileEmailBackend):
    """Writes each message to EMAIL_FILE_PATH, then has the sandbox report on it a moment later.

    It also keeps which messages it took (<EMAIL_FILE_PATH>.accepted/<message id>, holding the Message-ID), so
    the outbox sweeper can ask it about a hand-over whose answer was lost (`accepted`), as a real service's
    message search would answer.
    """

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(email_messages)
        for email in email_messages:
            message_id = (getattr(email, "metadata", None) or {}).get(METADATA_KEY)
            if message_id:
                path = _accepted_path(int(message_id))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(email.extra_headers.get("Message-ID", ""))
                sandbox_report_later(message_id=int(message_id))
        return sent

    def accepted(self, message_id: int) -> tuple[str, str] | None:
        """(service name, its message ID) when the sandbox took the message, else None."""
        path = _accepted_path(message_id)
        return ("sandbox", path.read_text()) if path.exists() else None
