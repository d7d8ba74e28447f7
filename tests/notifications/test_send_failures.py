"""Failures on our side never blame the address: a configuration or credential error fails at once and is
logged as an error; a timeout or the service's own error is retried; only a refused address is "rejected"."""

import logging

import pytest
import requests
from django.db import OperationalError

from notifications.models import OutgoingMessage
from notifications.services import message_claim
from notifications.tasks import send_message
from orders.models import Order, TimelineEntry

from .conftest import FakeResponse, unreachable

pytestmark = pytest.mark.django_db

MAX_ATTEMPTS = 9  # EMAIL_MAX_ATTEMPTS' default

Status = OutgoingMessage.Status
SENT_OK = (
    b'{"To": "anna@example.com", "SubmittedAt": "2026-01-01T10:00:00Z", '
    b'"MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817", "ErrorCode": 0, "Message": "OK"}'
)


@pytest.fixture
def queued(make_order, django_capture_on_commit_callbacks):
    def make(**order_fields) -> OutgoingMessage:
        with django_capture_on_commit_callbacks(execute=False):
            order = make_order(**order_fields)
        return order.messages.get()

    return make


def outcome(message: OutgoingMessage) -> tuple[str, str, str]:
    message.refresh_from_db()
    assert message.order_id is not None  # ticket emails are about an order
    last = TimelineEntry.objects.filter(order_id=message.order_id).order_by("created_at", "id").last()
    assert last is not None
    return message.status, Order.objects.get(pk=message.order_id).email_status, last.action


@pytest.mark.parametrize("status_code", [401, 403])
def test_refused_credentials_fail_at_once_naming_the_setting(queued, postmark_api, caplog, status_code):
    responses, calls = postmark_api
    responses.append(
        FakeResponse(
            status_code,
            b'{"ErrorCode": 10, "Message": "The Server Token you provided in the X-Postmark-Server-Token '
            b'request header was invalid. Please verify that you are using a valid token."}',
        )
    )
    message = queued()
    with caplog.at_level(logging.WARNING, logger="notifications.tasks"):
        send_message.apply(args=[message.pk])
    assert outcome(message) == (Status.FAILED, "failed", "email.failed")
    assert len(calls) == 1 and message.attempts == 1  # not retried
    assert message.status_reason == (
        f"The email service refused our credentials ({status_code}): check POSTMARK_SERVER_TOKEN"
    )
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "POSTMARK_SERVER_TOKEN" in caplog.records[0].getMessage()


def test_a_missing_api_key_fails_at_once_as_not_configured(queued, settings, caplog):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "POSTMARK_SERVER_TOKEN"}
    message = queued()
    with caplog.at_level(logging.WARNING, logger="notifications.tasks"):
        send_message.apply(args=[message.pk])
    assert outcome(message) == (Status.FAILED, "failed", "email.failed")
    assert message.attempts == 1
    assert message.status_reason.startswith("The email service is not configured:")
    assert "POSTMARK_SERVER_TOKEN" in message.status_reason
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


def test_a_service_that_cannot_be_reached_is_retried_and_never_blames_the_address(queued, postmark_api):
    responses, calls = postmark_api
    responses += [
        unreachable(),
        requests.ConnectTimeout("Connection to api.postmarkapp.com timed out"),
        FakeResponse(200, SENT_OK),
    ]
    message = queued()
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts, len(calls)) == (Status.SENT, 3, 3)


def test_a_service_that_stays_unreachable_ends_failed_on_our_side(queued, postmark_api, settings):
    assert settings.EMAIL_MAX_ATTEMPTS == MAX_ATTEMPTS
    responses, calls = postmark_api
    responses += [unreachable() for _ in range(MAX_ATTEMPTS)]
    message = queued()
    send_message.apply(args=[message.pk])
    assert outcome(message) == (Status.FAILED, "failed", "email.failed")
    assert len(calls) == MAX_ATTEMPTS == message.attempts
    assert message.status_reason == f"The email service could not be reached; gave up after {MAX_ATTEMPTS} tries"


def test_the_services_own_error_is_retried_with_a_reason_on_our_side(queued, postmark_api):
    responses, calls = postmark_api
    responses += [FakeResponse(500, b'{"ErrorCode": 0, "Message": "Internal server error"}')] * MAX_ATTEMPTS
    message = queued()
    send_message.apply(args=[message.pk])
    assert outcome(message)[0] == Status.FAILED and len(calls) == MAX_ATTEMPTS
    assert message.status_reason.startswith("The email service had an error of its own (500)")


def test_an_address_the_service_refuses_is_rejected(queued, test_backend):
    message = queued()
    OutgoingMessage.objects.filter(pk=message.pk).update(recipient="anna.example.com")
    send_message.apply(args=[message.pk])
    assert outcome(message) == (Status.REJECTED, "rejected", "email.rejected")
    assert message.status_reason.startswith("Invalid address")


def test_a_claim_whose_connection_is_lost_before_its_read_leaves_the_message_queued(queued, monkeypatch):
    """The claim and the read of what the email is built from are one transaction: a connection lost between them
    (the database restarting) undoes the claim, so the task's retry claims it, not the sweeper minutes later."""
    message = queued()

    def lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(OutgoingMessage.objects, "select_related", lost)
    with pytest.raises(OperationalError):
        message_claim(message_id=message.pk)
    monkeypatch.undo()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutgoingMessage.Status.QUEUED, 0)
    claimed = message_claim(message_id=message.pk)
    assert claimed is not None and (claimed.status, claimed.attempts) == (OutgoingMessage.Status.SENDING, 1)
