"""The sandbox SMS provider of the embedded default and the tests (SMS_PROVIDER=sandbox): nothing leaves the machine.

Each SMS is written to SMS_FILE_PATH (var/sms/<time>-<message id>.txt) where a person can read it, and a moment
later (SMS_SANDBOX_DELAY) the sandbox reports what happened to it as Twilio would: form posts to the status
callback URL the SMS was sent with, signed with X-Twilio-Signature over SMS_SANDBOX_SECRET, through the real
webhook view (notifications.sms_webhooks), which checks the signature and records them.

What happens depends on the number (555-01xx numbers are fictional, reserved for examples):

    +1 202-555-0100   undelivered, Twilio 30005: the number is unknown to its carrier (the SMS bounces)
    +1 202-555-0101   sent, then undelivered, Twilio 30003: the phone is switched off (the SMS fails)
    any other number  sent, then delivered

With tasks in process the report comes from a timer thread, with a worker from a Celery task (as the email
sandbox's, notifications/sandbox.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone
from twilio.request_validator import RequestValidator

from .emails import SendResult
from .sandbox import sandbox_report_later

log = logging.getLogger(__name__)

SMS_SANDBOX_REPORT_TASK = "notifications.tasks.sms_sandbox_report"
NAME = "SMS sandbox"
SENDER = "+10000000000"
ACCOUNT_SID = "ACsandbox0000000000000000000000000"
DELIVERED: tuple[tuple[str, str], ...] = (("sent", ""), ("delivered", ""))
TEST_NUMBERS: dict[str, tuple[tuple[str, str], ...]] = {
    "+12025550100": (("undelivered", "30005"),),
    "+12025550101": (("sent", ""), ("undelivered", "30003")),
}


def sandbox_outcomes(number: str) -> tuple[tuple[str, str], ...]:
    """The (Twilio status, error code) reports the sandbox makes for an SMS to `number` (E.164), in order."""
    return TEST_NUMBERS.get(number, DELIVERED)


def _accepted_path(message_id: int) -> Path:
    """Beside SMS_FILE_PATH, not in it: that folder holds only the SMS a person reads."""
    folder = Path(settings.SMS_FILE_PATH)
    return folder.with_name(f"{folder.name}.accepted") / str(message_id)


class SandboxProvider:
    """Writes the SMS to a file, remembers that it took it, and reports on it a moment later."""

    name = NAME

    def send(self, *, message_id: int, to: str, body: str, status_callback: str) -> str:
        sid = f"SM{uuid.uuid4().hex}"
        now = timezone.now()
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        text = f"To: {to}\nFrom: {SENDER}\nDate: {now.isoformat()}\nMessage-SID: {sid}\n\n{body}\n"
        (folder / f"{now:%Y%m%d-%H%M%S}-{message_id}.txt").write_text(text, encoding="utf-8")
        accepted = _accepted_path(message_id)
        accepted.parent.mkdir(parents=True, exist_ok=True)
        accepted.write_text(json.dumps({"sid": sid, "to": to, "callback": status_callback}))
        sandbox_report_later(
            message_id=message_id,
            report=sms_sandbox_report,
            task=SMS_SANDBOX_REPORT_TASK,
            delay=settings.SMS_SANDBOX_DELAY,
        )
        return sid

    def accepted(self, message_id: int) -> SendResult | Literal[False]:
        path = _accepted_path(message_id)
        return SendResult(NAME, json.loads(path.read_text())["sid"]) if path.exists() else False


def signed_post(url: str, params: dict[str, str], secret: str) -> int:
    """Post `params` as a form to `url` (absolute, on PORTAL_URL) through the portal's own URL resolution, signed
    like Twilio signs its callbacks; the HTTP status. A URL that isn't mounted is a 404."""
    parts = urlsplit(url)
    signature = RequestValidator(secret).compute_signature(url, params)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    try:
        match = resolve(parts.path)
    except Resolver404:
        return 404
    request = RequestFactory().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    return match.func(request, *match.args, **match.kwargs).status_code


def status_params(*, sid: str, to: str, status: str, error_code: str = "") -> dict[str, str]:
    """The form fields of Twilio's status callback for one status of an SMS."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": SENDER,
        "To": to,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def sms_sandbox_report(*, message_id: int) -> list[int]:
    """Report what happened to the SMS (by its number) through the status webhook; the HTTP statuses."""
    path = _accepted_path(message_id)
    if not path.exists():
        return []
    taken = json.loads(path.read_text())
    statuses = [
        signed_post(
            taken["callback"],
            status_params(sid=taken["sid"], to=taken["to"], status=status, error_code=code),
            settings.SMS_SANDBOX_SECRET,
        )
        for status, code in sandbox_outcomes(taken["to"])
    ]
    if any(status != 200 for status in statuses):
        log.warning("The SMS sandbox's delivery report for message %s was answered %s", message_id, statuses)
    return statuses
