"""A storm of 10,000 delivery webhook events (issue 16) through a real gunicorn, from 8 clients at once.

SendGrid batches (1–40 events each) of deliveries, deferrals, soft and hard bounces, complaints and opens for a few
thousand sent ticket emails, about 10% of them exact duplicates, shuffled so that later events often arrive before
earlier ones for the same message. gunicorn runs 2 processes × 4 threads against the test database, as production
runs it; concurrency is what finds deadlocks. Afterwards, in SQL: nothing lost (every event stored), nothing doubled
(each event once, each status move one timeline entry, each bad address one suppression row), nothing half-applied
(every message at the status the precedence table `models.STAGE` gives for its event set, whatever the arrival order,
and every order's email status that of its latest ticket email); every answer 2xx, no deadlock in the server's log
nor in PostgreSQL's counter.

STORM_EVENTS (default 10,000) sets the size; the figure (events per second) is printed.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications.models import STAGE, DeliveryEvent, OutgoingMessage, Suppression
from notifications.services.delivery import EVENT_STATUS
from notifications.services.suppression import SUPPRESSING
from orders.models import Order, TimelineEntry
from tests import production

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "storm-hook:storm-webhook-password"
PATH = "/anymail/sendgrid/tracking/"
EVENTS = int(os.environ.get("STORM_EVENTS", "10000"))
CLIENTS = 8
DUPLICATES = 0.10
Status = OutgoingMessage.Status
Type = DeliveryEvent.Type

# SendGrid's events (its Event Webhook reference), each with the DeliveryEvent type the portal must store for it.
KINDS: dict[str, tuple[Type, dict]] = {
    "delivered": (Type.DELIVERED, {"event": "delivered", "response": "250 2.0.0 OK", "tls": 1}),
    "deferred": (Type.DEFERRED, {"event": "deferred", "response": "451 4.7.1 Greylisted, try again later"}),
    "soft_bounce": (
        Type.DEFERRED,
        {"event": "bounce", "type": "blocked", "status": "4.2.2", "reason": "452 4.2.2 The mailbox is over quota"},
    ),
    "hard_bounce": (
        Type.BOUNCED,
        {"event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 No such user"},
    ),
    "complaint": (Type.COMPLAINED, {"event": "spamreport"}),
    "open": (Type.OPENED, {"event": "open", "useragent": "Mozilla/5.0", "ip": "203.0.113.7"}),
}
# How likely each kind is for one message (a second deferral is a separate event of the same kind).
ODDS = {"deferred": 0.5, "soft_bounce": 0.15, "delivered": 0.8, "open": 0.35, "hard_bounce": 0.08, "complaint": 0.04}


def _messages(organisation, event, count: int) -> list[OutgoingMessage]:
    """`count` sent ticket emails: one per order, and every fifth order's later resend to a new address."""
    orders = Order.objects.bulk_create(
        Order(
            organisation=organisation,
            event=event,
            code=f"ST{n:08d}",
            contact_name=f"Guest {n}",
            contact_email=f"guest{n}@storm.example",
            status=Order.Status.PAID,
            currency="EUR",
            email_status=Status.SENT,
        )
        for n in range(count * 5 // 6 + 1)
    )
    sent_at = timezone.now() - timedelta(hours=1)
    rows = []
    for n, order in enumerate(orders):
        rows.append((order, "tickets", order.contact_email, sent_at))
        if n % 5 == 0:
            rows.append((order, "tickets_resend", f"guest{n}.new@storm.example", sent_at + timedelta(minutes=5)))
    return OutgoingMessage.objects.bulk_create(
        OutgoingMessage(
            organisation=organisation,
            order=order,
            kind=kind,
            recipient=recipient,
            status=Status.SENT,
            provider="SendGrid",
            provider_message_id=f"storm-{n}",
            created_at=created,
            status_at=created,
        )
        for n, (order, kind, recipient, created) in enumerate(rows[:count])
    )


def _storm(messages: list[OutgoingMessage], rng: random.Random) -> tuple[list[dict], dict[int, list[str]]]:
    """Distinct SendGrid events for the messages until EVENTS × 0.9 of them, and each message's kinds."""
    now = int(time.time())
    events: list[dict] = []
    kinds_of: defaultdict[int, list[str]] = defaultdict(list)
    wanted = int(EVENTS * (1 - DUPLICATES))
    while len(events) < wanted:
        for message in messages:
            kinds = [kind for kind, odds in ODDS.items() if rng.random() < odds] or ["delivered"]
            for kind in kinds:
                n = len(kinds_of[message.pk])
                kinds_of[message.pk].append(kind)
                events.append(
                    {
                        "email": message.recipient,
                        "timestamp": now - 600 + 60 * n,
                        "sg_event_id": f"storm-{message.pk}-{n}-{kind}",
                        "sg_message_id": f"{message.provider_message_id}.filter0001",
                        "portal_message_id": str(message.pk),
                        **KINDS[kind][1],
                    }
                )
            if len(events) >= wanted:
                break
    return events, kinds_of


def _batches(events: list[dict], rng: random.Random) -> list[bytes]:
    """The events with 10% exact duplicates, shuffled, cut into SendGrid batches of 1–40."""
    posted = events + [rng.choice(events) for _ in range(EVENTS - len(events))]
    rng.shuffle(posted)
    bodies, i = [], 0
    while i < len(posted):
        size = rng.randint(1, 40)
        bodies.append(json.dumps(posted[i : i + size]).encode())
        i += size
    return bodies


def _gunicorn(log: Path) -> tuple[subprocess.Popen, str]:
    db = settings.DATABASES["default"]
    port = production.free_port()
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0",
        "SECRET_KEY": "storm-test-secret-key-" + "x" * 40,
        "ANYMAIL_WEBHOOK_SECRET": SECRET,
        "EMAIL_WEBHOOKS": "sendgrid",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "gunicorn", "organiser_portal.wsgi", "-w", "2", "--threads", "4"]
    command += ["-b", f"127.0.0.1:{port}", "--worker-class", "gthread", "--log-level", "warning"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=5).close()
            return server, base
        except urllib.error.HTTPError:
            return server, base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                os.killpg(server.pid, signal.SIGKILL)
                raise AssertionError("gunicorn did not answer: " + log.read_text()[-2000:]) from None
            time.sleep(0.2)


def _post_all(base: str, bodies: list[bytes]) -> Counter:
    """Post every body from CLIENTS threads at once; the answers' status codes."""
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    todo: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        todo.put(body)
    answers: Counter = Counter()

    def client() -> None:
        while True:
            try:
                body = todo.get_nowait()
            except queue.Empty:
                return
            request = urllib.request.Request(
                base + PATH, data=body, headers={"Content-Type": "application/json", "Authorization": auth}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answers[response.status] += 1
            except urllib.error.HTTPError as error:
                answers[error.code] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _expected_status(kinds: list[str]) -> str:
    """The portal's precedence: a message moves only to a later stage (models.STAGE), from sent."""
    statuses = [EVENT_STATUS[KINDS[kind][0]] for kind in kinds]
    return max([Status.SENT, *statuses], key=lambda status: STAGE[Status(status)])


def test_a_storm_of_webhook_events_loses_nothing_doubles_nothing_and_ends_right(organisation, event, tmp_path):
    rng = random.Random(16)
    messages = _messages(organisation, event, count=EVENTS // 3)
    events, kinds_of = _storm(messages, rng)
    bodies = _batches(events, rng)
    deadlocks_before = _deadlocks()
    log = tmp_path / "gunicorn.log"
    server, base = _gunicorn(log)
    try:
        started = time.monotonic()
        answers = _post_all(base, bodies)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"\nwebhook storm: {EVENTS:,} events ({len(events):,} distinct) in {len(bodies):,} SendGrid batches from"
        f" {CLIENTS} clients in {elapsed:.1f} s = {EVENTS / elapsed:,.0f} events/s received,"
        f" {len(events) / elapsed:,.0f} distinct events/s stored"
    )
    server_log = log.read_text()
    assert set(answers) == {200}, f"answers {dict(answers)}; server log: {server_log[-3000:]}"
    assert "deadlock" not in server_log.lower() and "Traceback" not in server_log, server_log[-3000:]
    assert _deadlocks() == deadlocks_before

    # Nothing lost, nothing doubled: each distinct event stored once, as the type its SendGrid event says.
    stored = Counter(DeliveryEvent.objects.values_list("message_id", "event_type"))
    wanted = Counter((mid, KINDS[kind][0].value) for mid, kinds in kinds_of.items() for kind in kinds)
    assert stored == wanted
    assert DeliveryEvent.objects.count() == len(events)

    # Every message at the status its event set gives, whatever the order the events came in.
    final = dict(OutgoingMessage.objects.values_list("pk", "status"))
    opened = set(OutgoingMessage.objects.exclude(opened_at=None).values_list("pk", flat=True))
    expected = {m.pk: _expected_status(kinds_of.get(m.pk, [])) for m in messages}
    assert {pk: s for pk, s in final.items() if s != expected[pk]} == {}
    assert opened == {mid for mid, kinds in kinds_of.items() if "open" in kinds}

    # Each order's email status is that of its latest ticket email (the resend, where there is one).
    latest = {}
    for message in sorted(messages, key=lambda m: (m.created_at, m.pk)):
        latest[message.order_id] = expected[message.pk]
    assert dict(Order.objects.filter(pk__in=latest).values_list("pk", "email_status")) == latest

    # One timeline entry per status move, and only moves to statuses of the message's events.
    entries = Counter(
        (data["message"], action.removeprefix("email."))
        for action, data in TimelineEntry.objects.filter(action__startswith="email.").values_list("action", "data")
    )
    assert [key for key, n in entries.items() if n > 1] == []
    moves_of = defaultdict(set)
    for mid, status in entries:
        moves_of[mid].add(status)
    for message in messages:
        moves = moves_of[message.pk]
        allowed = {EVENT_STATUS[KINDS[kind][0]] for kind in kinds_of.get(message.pk, [])}
        assert moves <= allowed, (message.pk, moves, allowed)
        assert (expected[message.pk] == Status.SENT) or expected[message.pk] in moves

    # A hard bounce or complaint puts the address on the list once.
    suppressed = Counter(Suppression.objects.values_list("address", flat=True))
    bad = {m.recipient for m in messages if expected[m.pk] in SUPPRESSING}
    assert set(suppressed) == bad and set(suppressed.values()) <= {1}
