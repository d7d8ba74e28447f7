"""A storm of delivery webhooks (issue 16): SendGrid-style batches of events, with duplicates and out of order,
posted by wrk to several gunicorn processes; how many events per second reach DeliveryEvent rows.

Each chosen message gets three distinct events: deferred (earlier), delivered, opened. They are shuffled across
batches (so a deferral often arrives after its delivery), and wrk posts the batches round and round, so every
event arrives several times. Afterwards, in plain SQL: each message delivered, opened, with exactly three new
events; nothing else touched. Then the data is put back as the run found it, so the suite can run again.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import urllib.request
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction

from .common import Ctx, Result, Wrong, _sql
from .load import _gunicorn, _stop, _wait_for, _worker_cpu_seconds, _wrk_errors, _wrk_field, _wrk_latency

PATH = "/anymail/sendgrid/tracking/"
_LUA = """
bodies = {BODIES}
i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "AUTH"
request = function()
  i = i + 1
  return wrk.format(nil, "PATH", nil, bodies[(i % #bodies) + 1])
end
"""


def _events(rows: list[tuple[int, str, str]], now: int) -> list[dict]:
    """Three distinct SendGrid events per message (id, provider id, recipient): deferred, delivered, open."""
    events = []
    for mid, pmid, recipient in rows:
        kinds: list[tuple[str, dict[str, object]]] = [
            ("deferred", {"response": "452 4.2.2 The email account is over quota.", "attempt": "1"}),
            ("delivered", {"response": "250 2.0.0 OK", "ip": "167.89.17.173", "tls": 1}),
            ("open", {"useragent": "Mozilla/5.0", "ip": "203.0.113.7"}),
        ]
        for n, (kind, extra) in enumerate(kinds):
            events.append(
                {
                    "email": recipient,
                    "timestamp": now - 300 + 60 * n,
                    "sg_event_id": f"storm-{mid}-{kind}",
                    "sg_message_id": f"{pmid}.filter0001",
                    "event": kind,
                    "anymail_id": pmid,
                    "portal_message_id": str(mid),
                    **extra,
                }
            )
    return events


def _state(ids: list[int]) -> dict[int, tuple]:
    return {
        r[0]: r[1:]
        for r in _sql(
            "SELECT m.id, m.status, m.opened_at IS NOT NULL, count(e.id) FROM notifications_outgoingmessage m "
            "LEFT JOIN notifications_deliveryevent e ON e.message_id = m.id WHERE m.id = ANY(%s) GROUP BY m.id",
            [ids],
        )
    }


def _restore(ids: list[int], saved: list[tuple], first_event: int, first_entry: int) -> None:
    """The run's events and timeline entries deleted; the messages and their orders as they were."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "DELETE FROM notifications_deliveryevent WHERE message_id = ANY(%s) AND id > %s", [ids, first_event]
        )
        cur.execute(
            "DELETE FROM orders_timelineentry WHERE id > %s AND order_id IN "
            "(SELECT order_id FROM notifications_outgoingmessage WHERE id = ANY(%s)) AND action LIKE 'email.%%'",
            [first_entry, ids],
        )
        cur.execute(
            "UPDATE notifications_outgoingmessage m SET status = s.status, status_reason = s.reason, "
            "status_at = s.status_at, opened_at = s.opened_at "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
            "AS s(id, status, reason, status_at, opened_at) WHERE m.id = s.id",
            [list(col) for col in zip(*[(r[0], r[1], r[2], r[3], r[4]) for r in saved])],
        )
        cur.execute(
            "UPDATE orders_order o SET email_status = s.email_status "
            "FROM unnest(%s::bigint[], %s::text[]) AS s(id, email_status) WHERE o.id = s.id",
            [[r[5] for r in saved], [r[6] for r in saved]],
        )


def bench_webhook_storm(
    ctx: Ctx,
    *,
    duration: int = 10,
    connections: int = 16,
    workers: int = 2,
    threads: int = 8,
    batch: int = 100,
    messages: int = 5000,
) -> list[Result]:
    """SendGrid batches of `batch` events for `messages` sent emails (three events each, shuffled), posted round
    and round by wrk to `workers` gunicorn processes (gthread, `threads` threads each). The figure: distinct
    events stored per second (new DeliveryEvent rows over wrk's duration); also events received per second,
    duplicates included."""
    title = f"delivery webhook storm, batches of {batch} (gunicorn {workers}×{threads} threads, wrk {connections} connections)"
    result = Result(title, "webhook storm", "10,000 events/s (issue 16), none lost or doubled", unit="events/s")
    wrk = shutil.which("wrk")
    if wrk is None:
        result.status, result.note = "skipped", "wrk is not installed (apt-get install wrk)"
        return [result]
    rows = _sql(
        "SELECT id, provider_message_id, recipient FROM notifications_outgoingmessage WHERE organisation_id = %s "
        "AND status = 'sent' AND channel = 'email' AND provider_message_id <> '' AND order_id IS NOT NULL "
        "ORDER BY id LIMIT %s",
        [ctx.org.pk, messages],
    )
    if not rows:
        raise Wrong("no sent message left to deliver (reseed the data)")
    ids = [r[0] for r in rows]
    saved = _sql(
        "SELECT m.id, m.status, m.status_reason, m.status_at, m.opened_at, o.id, o.email_status "
        "FROM notifications_outgoingmessage m JOIN orders_order o ON o.id = m.order_id WHERE m.id = ANY(%s)",
        [ids],
    )
    ((first_event,),) = _sql("SELECT coalesce(max(id), 0) FROM notifications_deliveryevent")
    ((first_entry,),) = _sql("SELECT coalesce(max(id), 0) FROM orders_timelineentry")
    before = _state(ids)
    events = _events(rows, int(time.time()))
    random.Random(1).shuffle(events)
    bodies = [json.dumps(events[i : i + batch]) for i in range(0, len(events), batch)]
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    secret = secret[0] if isinstance(secret, list | tuple) else secret
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    os.environ["EMAIL_WEBHOOKS"] = "postmark,sendgrid"  # the gunicorn's: SendGrid posts batches
    server, port = _gunicorn(workers=workers, threads=threads)
    base = f"http://127.0.0.1:{port}"
    out, cmd, replay_errors = "", [wrk], 0
    try:
        _wait_for(base + "/accounts/login/", server)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            lua = _LUA.replace("BODIES", ", ".join(f"[==[{b}]==]" for b in bodies))
            script.write(lua.replace("AUTH", auth).replace("PATH", PATH))
        cmd = [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "60s",
            "--latency",
            "-s",
            script.name,
            base,
        ]
        cpu_before = _worker_cpu_seconds(server)
        started = time.monotonic()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        elapsed = time.monotonic() - started
        cpu = _worker_cpu_seconds(server) - cpu_before
        os.unlink(script.name)
        ((stored_timed,),) = _sql(
            "SELECT count(*) FROM notifications_deliveryevent WHERE message_id = ANY(%s) AND id > %s",
            [ids, first_event],
        )
        for body in bodies:  # untimed: every batch once more, so every event has surely arrived
            request = urllib.request.Request(
                base + PATH, data=body.encode(), headers={"Content-Type": "application/json", "Authorization": auth}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                replay_errors += response.status != 200
        after = _state(ids)
    finally:
        _stop(server)
        os.environ.pop("EMAIL_WEBHOOKS", None)
        _restore(ids, saved, first_event, first_entry)
    posts = int(_wrk_field(out, "requests in", before=True) or 0)
    errors = _wrk_errors(out) + replay_errors
    wrong = [m for m in ids if after[m] != ("delivered", True, before[m][2] + 3)]
    result.value = round(stored_timed / elapsed, 1)
    result.samples = posts
    lat = _wrk_latency(out)
    if lat:
        result.median, result.p95 = lat.get("50%"), lat.get("90%")
    result.correct = errors == 0 and not wrong
    result.passed = result.correct and result.value >= 10_000
    result.status = "ok" if result.passed else "fail"
    received = posts * batch / elapsed
    cpu_ms = round(cpu * 1000 / max(1, posts * batch), 3)
    result.note = (
        f"{posts:,} batches of {batch} in {elapsed:.1f} s = {received:,.0f} events/s received (duplicates included);"
        f" {stored_timed:,} of {len(events):,} distinct events stored during the run; after one more untimed pass"
        f" {len(ids) - len(wrong):,} of {len(ids):,} messages delivered + opened with exactly 3 new events,"
        f" {len(wrong)} wrong, {errors} HTTP errors; web CPU {cpu_ms} ms an event received; data restored;"
        " p95 column: wrk's 90th percentile a batch"
    )
    result.extra = {
        "wrk": out.strip(),
        "command": " ".join(cmd[:-3] + ["-s", "<storm.lua>", base]) if out else "",
        "stored_per_second": result.value,
        "received_per_second": round(received, 1),
        "web_cpu_ms_per_event": cpu_ms,
        "checked_at": datetime.now(UTC).isoformat(),
    }
    return [result]
