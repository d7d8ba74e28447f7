"""Agents work while Redis is down: a redis-server of the test's own, on a free port, is stopped (or frozen)
under the portal and started again. Sessions live in the database, a failed PDF cache read is a miss, a
failed hand-over to the broker leaves the message to the outbox sweeper."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from notifications.models import OutgoingMessage
from notifications.services.outbox import WAITING_FOR_QUEUE
from notifications.tasks import sweep_outbox
from orders.models import Order
from organiser_portal.cache import BestEffortCache
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory
from tests.faults_support import RedisServer
from tests.notifications.test_worker import use_broker, wait_for
from tickets import pdf

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]  # the broker is reached after commit

Role = Membership.Role
PASSWORD = "pw"  # tests.factories.UserFactory's


@pytest.fixture
def portal_redis(redis_server, settings, monkeypatch) -> Iterator[RedisServer]:
    """The portal's cache (db 0) and broker (db 1) on the test's own Redis, with the settings' timeouts."""
    assert not celery_app.conf.task_always_eager, "these tests need REDIS_URL: a real broker and worker"
    cache = settings.CACHES["default"]
    settings.CACHES = {"default": {**cache, "LOCATION": redis_server.url(0)}}  # django.test resets `caches`
    use_broker(redis_server.url(1))
    # A fresh outage memory for the PDF cache, so that this test's outage doesn't outlive it.
    monkeypatch.setattr(pdf, "pdf_cache", BestEffortCache())
    yield redis_server
    use_broker(settings.CELERY_BROKER_URL)


def url(name: str, order: Order, **kwargs) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code, **kwargs})


def log_in(client, user) -> None:
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def post_action(client, name: str, order: Order, data: dict) -> str:
    """Open the action's confirmation page, submit it, and return the order page it leads back to."""
    page = client.get(url(name, order))
    assert page.status_code == 200
    token = page.context["form"]["idempotency_key"].value()
    started = time.monotonic()
    response = client.post(url(name, order), {**data, "idempotency_key": token}, follow=True)
    assert time.monotonic() - started < 2, f"{name} waited on the broker"
    assert response.status_code == 200 and response.redirect_chain == [(url("order_detail", order), 302)]
    return response.content.decode()


def pdf_pages(response) -> int:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return len(PdfReader(BytesIO(response.content)).pages)


def test_an_agent_works_while_redis_is_down_and_the_emails_go_out_once_it_is_back(
    client, member, organisation, event, make_order, portal_redis, mailoutbox
):
    agent = member(Role.SUPPORT)
    order = make_order(quantity=2)
    other = make_order(contact_email="ben@exmaple.com")
    held_event = EventFactory(organisation=organisation, send_tickets_automatically=False)
    held = make_order(
        event=held_event, ticket_type=TicketTypeFactory(event=held_event), contact_email="cem@example.com"
    )
    first_emails = set(OutgoingMessage.objects.values_list("pk", flat=True))

    portal_redis.stop()
    assert not portal_redis.answers()

    log_in(client, agent)
    my_events = client.get(reverse("dashboard"), follow=True)
    assert my_events.status_code == 200 and "Summer Festival" in my_events.content.decode()
    guests = client.get(reverse("event_guests", kwargs={"org": organisation.slug, "event_id": event.public_id}))
    assert guests.status_code == 200 and order.code in guests.content.decode()
    search = client.get(reverse("search", kwargs={"org": organisation.slug}), {"q": "ben@exmaple.com"})
    assert search.status_code == 200 and other.code in search.content.decode()
    page = client.get(url("order_detail", order))
    assert page.status_code == 200 and order.code in page.content.decode()

    html = post_action(client, "order_resend", order, {"send_to": "contact"})
    assert "Tickets queued for anna@example.com." in html
    html = post_action(
        client,
        "order_edit_contact",
        order,
        {"contact_name": "Anna Müller", "contact_email": "anna@example.org", "resend_tickets": "on"},
    )
    assert "Contact saved. Tickets queued for anna@example.org." in html
    html = post_action(client, "order_fix_and_resend", other, {"contact_email": "ben@example.com"})
    assert "Email corrected; tickets queued for ben@example.com." in html
    html = post_action(client, "order_send_held", held, {})
    assert "Tickets released and queued for cem@example.com." in html
    assert pdf_pages(client.get(url("order_download", order))) == 2

    # Every action wrote its message to the outbox; none reached the broker.
    new = OutgoingMessage.objects.exclude(pk__in=first_emails).order_by("pk")
    assert [(m.kind, m.recipient, m.status) for m in new] == [
        ("tickets_resend", "anna@example.com", "queued"),
        ("tickets_resend", "anna@example.org", "queued"),
        ("tickets_resend", "ben@example.com", "queued"),
        ("tickets", "cem@example.com", "queued"),
    ]

    # Redis comes back empty (the paid orders' first emails it held are lost with it). Once the outage
    # has lasted past the sweeper's threshold, beat's sweep hands every queued message to the worker.
    portal_redis.start()
    # The four queued during the outage say so on the order page; the two Redis lost look queued, as they were.
    assert OutgoingMessage.objects.filter(status_reason=WAITING_FOR_QUEUE).count() == 4
    OutgoingMessage.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=6))
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        sweep_outbox.delay()
        wait_for(lambda: not OutgoingMessage.objects.exclude(status="sent").exists(), timeout=15)
    sent = sorted(email.to[0] for email in mailoutbox)
    assert sent == sorted(OutgoingMessage.objects.values_list("recipient", flat=True))
    assert len(sent) == 6  # the two paid orders' first emails and the four of the outage, each once


def test_a_logout_while_redis_hangs_ends_the_session_for_good(client, member, make_order, portal_redis):
    order = make_order(quantity=1)
    log_in(client, member(Role.SUPPORT))
    assert client.get(url("order_detail", order)).status_code == 200
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    portal_redis.freeze()
    for _ in range(2):  # the second download doesn't wait on the cache again
        started = time.monotonic()
        assert pdf_pages(client.get(url("order_download", order))) == 1
        assert time.monotonic() - started < 3
    html = post_action(client, "order_resend", order, {"send_to": "contact"})
    assert "Tickets queued for anna@example.com." in html
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    portal_redis.thaw()
    assert portal_redis.answers()

    # The old session cookie, from another tab or a stolen copy, opens nothing once Redis answers again.
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = client.get(url("order_detail", order))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def cache_log(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "organiser_portal.cache"]


def test_a_cache_that_hangs_is_a_miss_costing_one_timeout_and_one_warning(portal_redis, caplog):
    cache = BestEffortCache(retry_after=0.5)
    cache.set("tickets-pdf:k", b"%PDF", 60)
    assert cache.get("tickets-pdf:k") == b"%PDF"

    portal_redis.freeze()
    caplog.set_level(logging.INFO, logger="organiser_portal.cache")
    started = time.monotonic()
    for _ in range(20):
        assert cache.get("tickets-pdf:k") is None
        cache.set("tickets-pdf:other", b"%PDF", 60)
    assert time.monotonic() - started < 1.5  # one socket timeout (0.5 s), not forty
    assert [(r.levelname, r.getMessage()[:25]) for r in cache_log(caplog)] == [("WARNING", "Cache 'default' unavailab")]

    portal_redis.thaw()
    time.sleep(0.6)
    assert cache.get("tickets-pdf:k") == b"%PDF"  # tried again after retry_after: Redis kept the value
    assert [(r.levelname, r.getMessage()) for r in cache_log(caplog)][1:] == [("INFO", "Cache 'default' answers again")]


def test_a_cache_that_is_down_is_a_miss(portal_redis):
    cache = BestEffortCache()
    portal_redis.stop()
    cache.set("tickets-pdf:k", b"%PDF", 60)
    assert cache.get("tickets-pdf:k") is None
