"""Every email exactly once under faults, with real workers: the database away at the claim or while recording a
send, a worker killed after the hand-over, a full Redis.

The email service is faked where the portal meets it: Postmark's API at requests' session for an in-process
worker, or a real HTTP server playing Postmark for a worker process that is killed. Database faults are made by a
second connection holding the order's row while the worker's connections wait at most 0.3 s for a lock
(DB_LOCK_TIMEOUT), never by mocking the outbox. Each test counts the copies the service got.
"""

import json
import signal
import subprocess
import threading
import time
from datetime import timedelta

import psycopg
import pytest
import redis
import requests
from anymail.backends.test import EmailBackend as AnymailTestBackend
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutgoingMessage
from notifications.services import messages_requeue_stale
from notifications.services.outbox import WAITING_FOR_QUEUE
from orders.models import TimelineEntry
from organiser_portal.celery import app as celery_app
from organiser_portal.db_timeouts import db_timeout_options
from tests import production
from tests.faults_support import free_port, wait_for, worker_process

from . import payloads
from .conftest import FakeResponse
from .test_send_failures import SENT_OK
from .test_webhooks import auth, meta, post
from .test_worker import use_broker

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

Status = OutgoingMessage.Status


def fresh(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=message.pk)


def dsn() -> str:
    params = connection.get_connection_params()
    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in params.items() if k in ("dbname", "host", "port", "user")}
    )


class RowHolder:
    """A second connection holding an order's row for `seconds` (a stuck transaction, a database blip)."""

    def __init__(self, order_id: int, seconds: float):
        self.order_id, self.seconds = order_id, seconds
        self.held = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def start(self) -> "RowHolder":
        self.thread.start()
        assert self.held.wait(5)
        return self

    def _hold(self) -> None:
        with psycopg.connect(dsn()) as holder:
            holder.execute("SELECT 1 FROM orders_order WHERE id = %s FOR UPDATE", [self.order_id])
            self.held.set()
            time.sleep(self.seconds)
            holder.rollback()


@pytest.fixture
def short_lock_waits(monkeypatch):
    """Connections opened from now on (the worker's) wait at most 0.3 s for a row lock."""
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "options", db_timeout_options(statement=30, lock=0.3))


@pytest.fixture
def queue():
    use_broker(django_settings.CELERY_BROKER_URL)
    celery_app.control.purge()  # tasks other tests published without a worker
    yield
    use_broker(django_settings.CELERY_BROKER_URL)


def in_process_worker():
    return start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10)


def test_a_send_task_that_finds_the_database_away_tries_again_shortly(
    make_order, test_backend, short_lock_waits, queue
):
    order = make_order()  # its task waits in the queue: no worker yet
    message = order.messages.get()
    holder = RowHolder(order.pk, seconds=3).start()
    with in_process_worker():
        wait_for(lambda: fresh(message).status == Status.SENT, timeout=30)  # no sweeper runs here
    holder.thread.join()
    assert len(test_backend) == 1 and fresh(message).attempts == 1


class DatabaseLostAtOpen(AnymailTestBackend):
    """anymail's test backend, whose first connection comes as the database restarts: the worker's connection to
    it is cut (pg_terminate_backend) and, for 3 s, the order's row is held (a database not yet taking writes)."""

    order_id: int | None = None
    holders: list[RowHolder] = []

    def open(self):
        if DatabaseLostAtOpen.order_id is not None and not DatabaseLostAtOpen.holders:
            DatabaseLostAtOpen.holders.append(RowHolder(DatabaseLostAtOpen.order_id, seconds=3).start())
            with psycopg.connect(dsn(), autocommit=True) as admin:  # the worker thread's connection is cut
                admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
        return super().open()


@pytest.fixture
def database_lost_at_open(settings):
    settings.EMAIL_BACKEND = f"{__name__}.DatabaseLostAtOpen"
    mail.outbox = []
    yield mail.outbox
    for holder in DatabaseLostAtOpen.holders:
        holder.thread.join()
    DatabaseLostAtOpen.order_id, DatabaseLostAtOpen.holders = None, []


def test_a_try_that_loses_the_database_before_the_hand_over_is_put_back_when_it_returns(
    make_order, database_lost_at_open, short_lock_waits, queue
):
    """The claim is made, then the database goes away before the hand-over: the try is released for its retry
    as soon as the database takes it (release_for_retry), not left "sending" until the sweeper."""
    order = make_order()  # its task waits in the queue
    message = order.messages.get()
    DatabaseLostAtOpen.order_id = order.pk
    with in_process_worker():
        wait_for(lambda: fresh(message).status == Status.SENT, timeout=40, what="the release and the retry")
    message = fresh(message)
    assert len(database_lost_at_open) == 1 and message.attempts == 2  # the lost try sent nothing
    assert len(DatabaseLostAtOpen.holders) == 1
    assert TimelineEntry.objects.filter(order=order, action="email.sent").count() == 1


@pytest.fixture
def postmark_recording_blocked(settings, monkeypatch):
    """Postmark's API (faked at requests' session): accepts each message, and just then the database stops
    taking the order's row for 4 s (RowHolder), so recording the send fails until then."""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "test-token"}
    calls: list[dict] = []
    holders: list[RowHolder] = []

    def request(self, method, url, **kwargs):
        calls.append({"url": url, **kwargs})
        message = OutgoingMessage.objects.get(pk=json.loads(kwargs["data"])["Metadata"]["portal_message_id"])
        holders.append(RowHolder(message.order_id, seconds=4).start())
        response = FakeResponse(200, SENT_OK)
        response.url, response.request = url, requests.Request(method, url).prepare()
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    yield calls
    for holder in holders:
        holder.thread.join()


def test_a_database_error_while_recording_a_send_is_retried_never_resent(
    make_order, postmark_recording_blocked, short_lock_waits, queue
):
    calls = postmark_recording_blocked
    with in_process_worker():
        order = make_order()
        message = order.messages.get()
        wait_for(lambda: len(calls) == 1)
        time.sleep(1)  # the recording is failing now
        assert fresh(message).status == Status.SENDING
        # The sweeper at its most eager: a handed-over message is not its to resend.
        assert messages_requeue_stale(queued_for=timedelta(0), sending_for=timedelta(0)) == 0
        wait_for(lambda: fresh(message).status == Status.SENT, timeout=40, what="record_sent")
    message = fresh(message)
    assert len(calls) == 1 and message.attempts == 1
    assert message.provider_message_id == "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
    assert TimelineEntry.objects.filter(order=order, action="email.sent").count() == 1


def test_the_sweeper_running_beside_a_retry_chain_starts_no_second_chain(make_order, postmark_api, settings, queue):
    settings.EMAIL_RETRY_DELAY = 2  # retries due after 2-3 s, then 4-5 s
    responses, calls = postmark_api
    maintenance = b'{"ErrorCode": 100, "Message": "Maintenance"}'
    responses += [FakeResponse(503, maintenance), FakeResponse(503, maintenance), FakeResponse(200, SENT_OK)]
    with in_process_worker():
        message = make_order().messages.get()
        while fresh(message).status != Status.SENT:
            messages_requeue_stale(queued_for=timedelta(0))  # beat at its most eager, beside the retries
            time.sleep(0.05)
            assert len(calls) <= 3
        time.sleep(1)  # anything still in flight
    assert len(calls) == 3 and fresh(message).attempts == 3
    pauses = [later["at"] - earlier["at"] for earlier, later in zip(calls, calls[1:])]
    assert 1.9 <= pauses[0] < 4 and 3.9 <= pauses[1] < 6, pauses  # each try waited for its backoff


# --- A worker process killed after the hand-over -----------------------------------------------------------


def test_a_worker_killed_after_the_hand_over_sends_one_copy_settled_by_the_webhook(
    make_order, fake_postmark, queue, tmp_path, client, settings
):
    order = make_order()  # its task waits in the queue
    message = order.messages.get()
    worker = worker_process(fake_postmark.url, tmp_path / "worker.log")
    try:
        assert fake_postmark.took_one.wait(60), (tmp_path / "worker.log").read_text()
        worker.send_signal(signal.SIGKILL)  # the service took it; the worker dies before its answer comes
        worker.wait(10)
    finally:
        worker.kill()
    # Another worker takes over, and the sweeper runs at its most eager: nothing is resent before a delivery
    # event or EMAIL_UNCONFIRMED_RESEND_AFTER settles the hand-over.
    fake_postmark.release.set()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_SERVER_TOKEN": "test-token",
        "POSTMARK_API_URL": fake_postmark.url,
    }
    with in_process_worker():
        messages_requeue_stale(queued_for=timedelta(0), sending_for=timedelta(0))
        time.sleep(2)
    assert len(fake_postmark.received) == 1
    message = fresh(message)
    assert (message.status, message.attempts) == (Status.SENDING, 1) and message.handed_over_at is not None

    body = payloads.postmark_delivery("pm-1", meta(message), message.recipient)
    assert post(client, "postmark", body, **auth()).status_code == 200
    assert fresh(message).status == Status.DELIVERED
    assert len(fake_postmark.received) == 1
    assert fake_postmark.received[0]["Metadata"]["portal_message_id"] == str(message.pk)


def test_an_email_service_answering_after_the_timeout_gets_one_copy_settled_by_the_webhook(
    make_order, fake_postmark, queue, tmp_path, client
):
    """The service takes the message and answers only after the worker's client timeout (1 s here): the worker
    records the try as unconfirmed and goes on to the next message; nothing resends it, however often asked."""
    first, second = make_order().messages.get(), make_order(contact_email="ben@example.com").messages.get()
    log = tmp_path / "worker.log"
    worker = worker_process(fake_postmark.url, log, EMAIL_SERVICE_TIMEOUT="1")
    try:
        wait_for(lambda: len(fake_postmark.received) == 2, timeout=60, what="two sends")
        wait_for(lambda: fresh(second).handed_over_at is not None and fresh(second).status_reason != "", timeout=10)
        # The worker again, and the sweeper at its most eager, while the outcome is unknown: nothing is resent.
        for message in (first, second):
            OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        assert messages_requeue_stale(queued_for=timedelta(0), sending_for=timedelta(0)) == 0
        time.sleep(2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    fake_postmark.release.set()  # the late answers come, to nobody
    assert len(fake_postmark.received) == 2, log.read_text()
    for message in (first, second):
        message = fresh(message)
        assert (message.status, message.attempts) == (Status.SENDING, 1) and message.handed_over_at is not None
        assert message.status_reason.startswith("The email service did not answer in time")
    # The service's delivery reports carry our message ids: they settle both tries.
    for n, message in enumerate((first, second), start=1):
        body = payloads.postmark_delivery(f"pm-{n}", meta(message), message.recipient)
        assert post(client, "postmark", body, **auth()).status_code == 200
        assert fresh(message).status == Status.DELIVERED
    received = sorted(body["Metadata"]["portal_message_id"] for body in fake_postmark.received)
    assert received == sorted([str(first.pk), str(second.pk)])


# --- A full Redis ------------------------------------------------------------------------------------------


@pytest.fixture
def full_redis():
    """A Redis of the test's own, as the queue's is in production (noeviction), filled to its maxmemory."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--maxmemory", "4mb",
         "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    wait_for(lambda: _answers(client), timeout=10, what="redis-server")
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for n in range(1000):
            client.set(f"pdf-{n}", b"x" * 100_000)
    yield client, f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


def test_a_full_redis_leaves_the_email_waiting_for_the_queue_and_says_so(make_order, test_backend, full_redis, client):
    full, url = full_redis
    use_broker(url)
    try:
        order = make_order()  # the action succeeds; the broker refuses the task
        message = fresh(order.messages.get())
        assert (message.status, message.status_reason) == (Status.QUEUED, WAITING_FOR_QUEUE)
        OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=6))
        assert messages_requeue_stale() == 0  # the sweeper tries, and is refused too
        assert fresh(message).status_reason == WAITING_FOR_QUEUE
        health = client.get(reverse("health")).json()["checks"]["outbox"]
        assert health["ok"] is False and health["detail"].startswith("1 emails waiting for the task queue")

        full.flushall()  # room again (production: the cache evicts in its own Redis, the queue never fills)
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            assert messages_requeue_stale() == 1
            wait_for(lambda: fresh(message).status == Status.SENT)
    finally:
        use_broker(django_settings.CELERY_BROKER_URL)
    assert len(test_backend) == 1 and fresh(message).status_reason == ""


def test_the_cache_has_a_redis_of_its_own_that_evicts_and_the_queue_never_evicts(settings):
    services = production.compose()["services"]
    assert services["redis"]["command"][-2:] == ["--maxmemory-policy", "noeviction"]
    cache = services["cache"]["command"]
    assert cache[cache.index("--maxmemory-policy") + 1] == "allkeys-lru" and "--maxmemory" in cache
    assert services["web"]["environment"]["CACHE_URL"] == "redis://cache:6379/0"
    assert services["worker"]["environment"] == services["web"]["environment"]
    assert settings.CACHES["default"]["LOCATION"] == settings.CACHE_URL
