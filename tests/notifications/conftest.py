"""Fixtures for the send pipeline (anymail's test backend, tasks run in process) and the webhooks."""

import time

import pytest
import requests
from django.core import mail

from notifications.models import OutgoingMessage
from notifications.tasks import send_message
from organiser_portal.celery import app as celery_app

from . import payloads

SECRET = "hook-user:hook-password"


@pytest.fixture
def test_backend(settings):
    """Send through anymail's test backend: messages land in mail.outbox with their anymail params."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def eager_tasks():
    """Celery tasks run in process when queued (as on the embedded default), errors raised."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


_real_request = requests.Session.request


def unreachable() -> requests.ConnectionError:
    """What requests really raises when the email service's port is closed: the request never left."""
    try:
        _real_request(requests.Session(), "POST", "http://127.0.0.1:1/email", timeout=1)
    except requests.ConnectionError as error:
        return error
    raise AssertionError("port 1 answered")


@pytest.fixture(autouse=True)
def quick_retries(settings):
    """A retry is due at once (EMAIL_RETRY_DELAY 0): the in-process retries of Task.apply run through."""
    settings.EMAIL_RETRY_DELAY = 0


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": payloads.MAILGUN_SIGNING_KEY,
        # SNS subscription confirmations would call AWS; the tests never send one.
        "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
    }


@pytest.fixture
def sent(make_order, test_backend, django_capture_on_commit_callbacks):
    """A tickets email sent through the test backend, as the provider knows it."""

    def make(provider_message_id: str = "883953f4-6105-42a2-a16a-77a8eac79483") -> OutgoingMessage:
        with django_capture_on_commit_callbacks(execute=False):
            order = make_order()
        message = order.messages.get()
        send_message.apply(args=(message.pk,))
        OutgoingMessage.objects.filter(pk=message.pk).update(provider_message_id=provider_message_id)
        message.refresh_from_db()
        return message

    return make


class FakeResponse(requests.Response):
    def __init__(self, status: int, body: bytes):
        super().__init__()
        self.status_code = status
        self._content = body
        self.headers["Content-Type"] = "application/json"
        self.encoding = "utf-8"


@pytest.fixture
def postmark_api(settings, monkeypatch):
    """Postmark's HTTP API (the outside world), answering with the queued responses in turn."""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "test-token"}
    responses: list[FakeResponse | Exception] = []
    calls: list[dict] = []

    def request(self, method, url, **kwargs):
        calls.append({"url": url, "at": time.monotonic(), **kwargs})
        response = responses.pop(0)
        if isinstance(response, Exception):
            raise response
        response.url, response.request = url, requests.Request(method, url).prepare()
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    return responses, calls
