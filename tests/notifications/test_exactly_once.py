"""Every email exactly once, in process: a try whose answer is lost is never resent blindly, a try the email
service surely did not take is always retried, and the sweeper respects each message's backoff and tries.

The email service is Postmark's HTTP API, faked at requests' session (the outside world only): `calls` is every
request that reached it, so `len(calls)` is the number of copies it got. docs/reliability.md cites these tests.
"""

from datetime import timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from notifications.emails import send_email
from notifications.models import OutgoingMessage
from notifications.services import (
    message_claim,
    message_hand_over,
    messages_requeue_stale,
)
from notifications.services.outbox import NEVER_CONFIRMED, RESENT_UNCONFIRMED
from notifications.tasks import send_message
from orders.models import TimelineEntry

from . import payloads
from .conftest import FakeResponse, unreachable
from .test_send_failures import SENT_OK
from .test_webhooks import auth, meta, post

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status
LATE = "HTTPSConnectionPool(host='api.postmarkapp.com', port=443): Read timed out. (read timeout=10)"


@pytest.fixture
def queued(make_order, django_capture_on_commit_callbacks):
    def make(**order_fields) -> OutgoingMessage:
        with django_capture_on_commit_callbacks(execute=False):
            order = make_order(**order_fields)
        return order.messages.get()

    return make


def email_actions(message: OutgoingMessage) -> list[str]:
    assert message.order_id is not None
    entries = TimelineEntry.objects.filter(order_id=message.order_id, action__startswith="email.")
    return list(entries.order_by("created_at", "id").values_list("action", flat=True))


def hours_pass(message: OutgoingMessage, hours: float = 1.01) -> None:
    """The message's hand-over happened `hours` ago (the sweeper reads the clock; the test moves the row)."""
    OutgoingMessage.objects.filter(pk=message.pk).update(
        handed_over_at=timezone.now() - timedelta(hours=hours), status_at=timezone.now() - timedelta(hours=hours)
    )


def test_an_answer_after_the_client_timeout_is_one_copy_settled_by_the_webhook(queued, postmark_api, client):
    responses, calls = postmark_api
    responses += [requests.ReadTimeout(LATE), FakeResponse(200, SENT_OK)]  # the second is never asked for
    message = queued()

    assert send_message.apply(args=[message.pk]).get() == "unconfirmed"
    message.refresh_from_db()
    assert len(calls) == 1 and calls[0]["timeout"] == 10  # EMAIL_SERVICE_TIMEOUT, not anymail's 30 s
    assert (message.status, message.attempts) == (Status.SENDING, 1) and message.handed_over_at is not None
    assert message.status_reason == (
        "The email service did not answer in time; it may have taken it: waiting for its report before any resend"
    )

    # The same task again, and the sweeper at its next runs: nothing is sent while the outcome is unknown.
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"
    assert messages_requeue_stale(queued_for=timedelta(0), sending_for=timedelta(0)) == 0
    assert len(calls) == 1

    # The service's delivery report carries our message id: it settles the try.
    body = payloads.postmark_delivery("b7bc2f4a-e38e-4336-af7d-e6c392c2f817", meta(message), message.recipient)
    assert post(client, "postmark", body, **auth()).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    hours_pass(message, 5)
    assert messages_requeue_stale() == 0
    assert len(calls) == 1
    assert email_actions(message) == ["email.queued", "email.delivered"]


def test_a_lost_answer_nothing_reports_is_sent_once_more_after_the_wait_and_recorded(queued, postmark_api, settings):
    assert settings.EMAIL_UNCONFIRMED_RESEND_AFTER == 3600  # the default: longer than any webhook delay
    responses, calls = postmark_api
    responses += [requests.ReadTimeout(LATE), FakeResponse(200, SENT_OK)]
    message = queued()
    send_message.apply(args=[message.pk])

    hours_pass(message, 0.9)  # before EMAIL_UNCONFIRMED_RESEND_AFTER: still waiting for a report
    assert messages_requeue_stale() == 0
    assert len(calls) == 1

    hours_pass(message)
    assert messages_requeue_stale() == 1  # the resend, handed to the broker
    send_message.apply(args=[message.pk])  # what the worker does with it
    message.refresh_from_db()
    assert len(calls) == 2
    assert (message.status, message.unconfirmed_resends, message.attempts) == (Status.SENT, 1, 2)
    assert email_actions(message) == ["email.queued", "email.resent_unconfirmed", "email.sent"]


def test_a_resend_that_is_unconfirmed_too_fails_and_says_it_may_have_arrived(queued, postmark_api):
    responses, calls = postmark_api
    responses += [requests.ReadTimeout(LATE), requests.ReadTimeout(LATE)]
    message = queued()
    send_message.apply(args=[message.pk])
    hours_pass(message)
    messages_requeue_stale()
    message.refresh_from_db()
    assert (message.status, message.status_reason) == (Status.QUEUED, RESENT_UNCONFIRMED)
    send_message.apply(args=[message.pk])
    hours_pass(message)
    messages_requeue_stale()
    message.refresh_from_db()
    assert (message.status, message.status_reason) == (Status.FAILED, NEVER_CONFIRMED)
    assert len(calls) == 2  # never a third copy
    hours_pass(message, 10)
    assert messages_requeue_stale(queued_for=timedelta(0)) == 0


@pytest.mark.parametrize(
    "lost_answer",
    [
        pytest.param(lambda: requests.ConnectionError("('Connection aborted.', RemoteDisconnected())"), id="aborted"),
        pytest.param(lambda: FakeResponse(200, b"<html>gateway</html>"), id="unreadable-200"),
    ],
)
def test_an_answer_broken_after_the_request_went_out_is_unconfirmed(queued, postmark_api, lost_answer):
    responses, calls = postmark_api
    responses += [lost_answer(), FakeResponse(200, SENT_OK)]
    message = queued()
    assert send_message.apply(args=[message.pk]).get() == "unconfirmed"
    message.refresh_from_db()
    assert message.status == Status.SENDING and len(calls) == 1


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(unreachable, id="connection-refused"),
        pytest.param(lambda: requests.ConnectTimeout("connect timeout=10"), id="connect-timeout"),
        pytest.param(lambda: FakeResponse(503, b'{"ErrorCode": 100, "Message": "Maintenance"}'), id="http-503"),
        pytest.param(lambda: FakeResponse(429, b'{"ErrorCode": 429, "Message": "Rate limit"}'), id="http-429"),
    ],
)
def test_a_try_the_service_surely_did_not_take_is_retried(queued, postmark_api, refusal):
    responses, calls = postmark_api
    responses += [refusal(), FakeResponse(200, SENT_OK)]
    message = queued()
    assert send_message.apply(args=[message.pk]).get() == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, len(calls)) == (Status.SENT, 2, 2)
    assert message.handed_over_at is not None


def test_the_sweeper_leaves_a_message_waiting_for_its_retry_to_its_retry(queued, postmark_api, settings):
    settings.EMAIL_RETRY_DELAY = 60
    responses, calls = postmark_api
    responses += [FakeResponse(503, b'{"ErrorCode": 100, "Message": "Maintenance"}'), FakeResponse(200, SENT_OK)]
    message = queued()

    # The 503 releases it with a backoff; the retry Task.apply runs at once is refused: it is not due yet.
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"
    message.refresh_from_db()
    assert (message.status, message.attempts, len(calls)) == (Status.QUEUED, 1, 1)
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=55)
    assert message.status_reason == "The email service had an error of its own (503); trying again"

    # The sweeper, however often it runs and however eager: no second chain.
    OutgoingMessage.objects.filter(pk=message.pk).update(status_at=timezone.now() - timedelta(hours=1))
    for _ in range(3):
        assert messages_requeue_stale(queued_for=timedelta(0)) == 0
    assert len(calls) == 1

    # Once due, one claim sends it (the retry or the sweeper's task, whichever comes first).
    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert send_message.apply(args=[message.pk]).get() == "sent"
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"
    message.refresh_from_db()
    assert (message.status, message.attempts, len(calls)) == (Status.SENT, 2, 2)


def test_a_worker_that_died_before_the_hand_over_is_replaced_at_once(queued, postmark_api, settings):
    responses, calls = postmark_api
    responses.append(FakeResponse(200, SENT_OK))
    message = queued()
    assert message_claim(message_id=message.pk) is not None  # …and the worker died building the PDF
    stuck_since = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
    OutgoingMessage.objects.filter(pk=message.pk).update(status_at=stuck_since)

    assert messages_requeue_stale() == 1
    send_message.apply(args=[message.pk])  # what the worker does with it
    message.refresh_from_db()
    assert (message.status, message.attempts, len(calls)) == (Status.SENT, 2, 1)


def test_the_sweeper_gives_up_after_the_messages_tries(queued, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    message = queued()
    for _ in range(2):
        OutgoingMessage.objects.filter(pk=message.pk).update(status=Status.QUEUED, next_attempt_at=timezone.now())
        assert message_claim(message_id=message.pk) is not None  # each time, the worker died before the hand-over
    OutgoingMessage.objects.filter(pk=message.pk).update(status_at=timezone.now() - timedelta(hours=1))
    assert messages_requeue_stale() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)
    assert message.status_reason == "The sending worker stopped before handing it over; gave up after 2 tries"


def test_a_try_claimed_again_meanwhile_sends_nothing(queued, test_backend):
    """The hand-over names its try: a worker that lost its claim (and was somehow still running) sends nothing."""
    message = queued()
    first = message_claim(message_id=message.pk)
    assert first is not None
    OutgoingMessage.objects.filter(pk=message.pk).update(attempts=2)  # another worker's claim
    assert not message_hand_over(message_id=message.pk, attempt=first.attempts)
    assert message_hand_over(message_id=message.pk, attempt=2)
    assert not message_hand_over(message_id=message.pk, attempt=2)  # once per try
    assert test_backend == []


# --- The sandbox (ours) can be asked ------------------------------------------------------------------------


@pytest.fixture
def sandbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.EMAIL_SANDBOX_DELAY = 3600  # its report (a delayed task nobody runs here) is not part of these tests
    return tmp_path / "mail"


def test_the_sandbox_is_asked_whether_it_took_a_message_whose_worker_died(queued, sandbox, settings):
    message = queued()
    claimed = message_claim(message_id=message.pk)
    assert claimed is not None
    # The sandbox takes the message; the worker dies before recording it (nothing records the answer).
    send_email(claimed, hand_over=lambda: message_hand_over(message_id=message.pk, attempt=claimed.attempts))
    assert len(list(sandbox.iterdir())) == 1

    hours_pass(message)
    assert messages_requeue_stale() == 0
    message.refresh_from_db()
    assert (message.status, message.provider, message.unconfirmed_resends) == (Status.SENT, "sandbox", 0)
    assert message.provider_message_id.endswith("@portal.local>")
    assert len(list(sandbox.iterdir())) == 1


def test_a_message_the_sandbox_never_got_is_sent_again(queued, sandbox, settings):
    message = queued()
    claimed = message_claim(message_id=message.pk)
    assert claimed is not None
    assert message_hand_over(message_id=message.pk, attempt=claimed.attempts)  # …and the worker died right here

    hours_pass(message)
    assert messages_requeue_stale() == 1
    send_message.apply(args=[message.pk])  # what the worker does with it
    message.refresh_from_db()
    assert (message.status, message.attempts, message.unconfirmed_resends) == (Status.SENT, 2, 0)
    assert len(list(sandbox.iterdir())) == 1


def test_health_names_emails_waiting_for_the_queue(queued, client):
    message = queued()
    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=7))
    outbox = client.get(reverse("health")).json()["checks"]["outbox"]
    assert outbox == {"ok": False, "detail": "1 emails waiting for the task queue or a worker, the oldest for 7 min"}
