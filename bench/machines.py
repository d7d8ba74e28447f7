"""What machines post to one gunicorn worker under wrk: Postmark's delivery webhooks and the door scanners' check-ins."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.request
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from organiser_portal.models import Event

from .common import Ctx, NotBuilt, Result, Wrong, _sql, _url
from .load import _gunicorn, _stop, _wait_for, _worker_cpu_seconds, _wrk_errors, _wrk_field, _wrk_latency

# --- delivery webhooks ----------------------------------------------------------------------------


_WEBHOOK_LUA = """
bodies = {BODIES}
i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "AUTH"
request = function()
  i = i + 1
  return wrk.format(nil, "/anymail/postmark/tracking/", nil, bodies[(i % #bodies) + 1])
end
"""


def bench_webhooks(
    ctx: Ctx, *, duration: int = 10, connections: int = 8, messages: int = 1000, threads: int = 8
) -> list[Result]:
    """Postmark "Delivery" webhooks for `messages` sent emails, posted round and round (so every event
    arrives several times) by wrk to one gunicorn worker; afterwards every message whose event was
    posted must be delivered with exactly one new delivered event, and the others untouched.

    It moves those messages from sent to delivered: each run takes other messages (seeded sample).
    The worker runs as production runs it: one process, gthread with `threads` threads.
    """
    import base64
    import json

    result = Result(
        f"delivery webhooks, concurrent, with duplicates (1 gunicorn worker, {threads} threads, wrk {connections} connections)",
        "webhooks",
        "≥ 300 events/s on one gunicorn worker, none lost",
        unit="events/s",
    )
    wrk = shutil.which("wrk")
    if wrk is None:
        result.status, result.note = "skipped", "wrk is not installed (apt-get install wrk)"
        return [result]
    try:
        from django.urls import resolve

        resolve("/anymail/postmark/tracking/")
    except Exception as exc:
        raise NotBuilt("no /anymail/postmark/tracking/ webhook") from exc
    ((available,),) = _sql(
        "SELECT count(*) FROM notifications_outgoingmessage WHERE organisation_id = %s AND status = 'sent' "
        "AND channel = 'email' AND provider_message_id <> ''",
        [ctx.org.pk],
    )
    n = min(messages, available)
    if n == 0:
        raise Wrong("no sent message left to deliver (reseed the data)")
    rows = _sql(
        "SELECT id, provider_message_id, recipient FROM notifications_outgoingmessage WHERE organisation_id = %s "
        "AND status = 'sent' AND channel = 'email' AND provider_message_id <> '' ORDER BY id OFFSET %s LIMIT %s",
        [ctx.org.pk, ctx.rng.randint(0, max(0, available - n)), n],
    )
    ids = [r[0] for r in rows]
    before = dict(
        _sql(
            "SELECT message_id, count(*) FROM notifications_deliveryevent WHERE message_id = ANY(%s) GROUP BY 1", [ids]
        )
    )
    bodies = [
        json.dumps(
            {
                "RecordType": "Delivery",
                "ServerID": 4242,
                "MessageStream": "outbound",
                "MessageID": pmid,
                "Recipient": recipient,
                "Tag": "tickets",
                "DeliveredAt": "2026-06-01T12:30:00Z",
                "Details": "smtp;250 2.0.0 OK",
                "Metadata": {"portal_message_id": str(mid)},
            }
        )
        for mid, pmid, recipient in rows
    ]
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    secret = secret[0] if isinstance(secret, list | tuple) else secret
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    server, port = _gunicorn(workers=1, threads=threads)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/accounts/login/", server)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                _WEBHOOK_LUA.replace("BODIES", ", ".join(f"[==[{b}]==]" for b in bodies)).replace("AUTH", auth)
            )
        cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, base]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        os.unlink(script.name)
        # Untimed: every event once more, so each has surely arrived (most of them several times).
        replay_errors = 0
        for body in bodies:
            req = urllib.request.Request(
                base + "/anymail/postmark/tracking/",
                data=body.encode(),
                headers={"Content-Type": "application/json", "Authorization": auth},
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                replay_errors += resp.status != 200
    finally:
        _stop(server)
    total = int(_wrk_field(out, "requests in", before=True) or 0)
    errors = _wrk_errors(out) + replay_errors
    status = dict(_sql("SELECT id, status FROM notifications_outgoingmessage WHERE id = ANY(%s)", [ids]))
    after = dict(
        _sql(
            "SELECT message_id, count(*) FROM notifications_deliveryevent WHERE message_id = ANY(%s) GROUP BY 1",
            [ids],
        )
    )
    lost = [m for m in ids if status[m] != "delivered" or after.get(m, 0) != before.get(m, 0) + 1]
    rps = float(_wrk_field(out, "Requests/sec:") or 0)
    result.value, result.samples = round(rps, 1), total
    lat = _wrk_latency(out)
    if lat:
        result.median, result.p95 = lat.get("50%"), lat.get("90%")
    result.correct = errors == 0 and not lost
    result.passed = result.correct and rps >= 300
    result.status = "ok" if result.passed else "fail"
    result.note = (
        f"{total + n:,} posts of {n:,} distinct events ({(total + n) / n:.1f}× each, the last pass untimed):"
        f" {n - len(lost):,} messages delivered with exactly one new event, {len(lost)} lost or doubled,"
        f" {errors} HTTP errors; p95 column: wrk's 90th percentile"
    )
    result.extra = {"wrk": out.strip(), "command": " ".join(cmd[:-3] + [base])}
    return [result]


# --- scanner check-ins ----------------------------------------------------------------------------


_SCANNER_LUA = """
codes = {CODES}
i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  i = i + 1
  local body = '{"code":"' .. codes[((i - 1) % #codes) + 1] .. '","client_scan_id":"bench-' .. i .. '"}'
  return wrk.format(nil, "PATH", nil, body)
end
"""


def _scanner_tickets(ctx: Ctx, n: int) -> tuple[int, list[tuple[int, str, str, str, Any]]]:
    """The event with the most valid unused tickets, and a seeded random sample of n of them:
    (id, secret, public_id, order code, updated_at), in the order the doors will read them."""
    unused = "status = 'valid' AND used_at IS NULL"
    counts = _sql(
        f"SELECT event_id, count(*) FROM tickets_ticket WHERE organisation_id = %s AND {unused} GROUP BY 1 ORDER BY 2 DESC, 1",
        [ctx.org.pk],
    )
    if not counts:
        raise Wrong("no valid unused ticket left to scan (reseed the data)")
    event_id = counts[0][0]
    ids = [
        i for (i,) in _sql(f"SELECT id FROM tickets_ticket WHERE event_id = %s AND {unused} ORDER BY id", [event_id])
    ]
    chosen = ctx.rng.sample(ids, min(n, len(ids)))
    rows = {
        r[0]: r
        for r in _sql(
            "SELECT t.id, t.secret, t.public_id, o.code, t.updated_at FROM tickets_ticket t "
            "JOIN orders_order o ON o.id = t.order_id WHERE t.id = ANY(%s)",
            [chosen],
        )
    }
    return event_id, [rows[i] for i in chosen]


def _scanner_state(ctx: Ctx) -> tuple[int, int]:
    """(tickets used, scans) of the scale organisation: what the run may change, and by how much."""
    ((used,),) = _sql(
        "SELECT count(*) FROM tickets_ticket WHERE organisation_id = %s AND used_at IS NOT NULL", [ctx.org.pk]
    )
    ((scans,),) = _sql("SELECT count(*) FROM tickets_scan WHERE organisation_id = %s", [ctx.org.pk])
    return used, scans


def bench_scanner(
    ctx: Ctx, *, duration: int = 10, connections: int = 8, threads: int = 8, per_second: int = 2500
) -> list[Result]:
    """Door scanners checking in distinct unused tickets of one event through POST /api/v1/check-ins/,
    posted by wrk to one gunicorn worker (gthread, `threads` threads), each with its own client_scan_id,
    from a device standing at an access point whose area admits the event's ticket types (the area check).

    Checked afterwards in plain SQL: every posted ticket admitted exactly once, its used_at the scan's
    time, the tickets not reached untouched, and nothing else in the organisation changed. Then the
    data is put back (the run's scans and device deleted, used_at and updated_at restored), so the
    suite can run again. Two scans go first through Django's test client: their JSON answers are
    checked against the data, and the second one's SQL statements counted.
    """
    from django.db import transaction

    from tickets.models import AccessArea, AccessPoint
    from tickets.services import scanner_device_create

    target = "≥ 300 admitted scans/s on one process"
    result = Result(
        f"scanner API check-ins (1 gunicorn worker, {threads} threads, wrk {connections} connections)",
        "check-in",
        target,
        unit="scans/s",
    )
    path = _url("checkin_api")
    wrk = shutil.which("wrk")
    if wrk is None:
        result.status, result.note = "skipped", "wrk is not installed (apt-get install wrk)"
        return [result]
    event_id, tickets = _scanner_tickets(ctx, max(200, duration * per_second))
    if len(tickets) < 3:
        raise Wrong("fewer than 3 unused tickets left to scan (reseed the data)")
    event = Event.objects.get(pk=event_id)
    before = _scanner_state(ctx)
    # The device stands at an access point of an area admitting the event's ticket types (the ones it sells,
    # listed: the check a VIP area makes): every scan takes the area check, read from the cached door plan.
    area = AccessArea.objects.create(organisation=ctx.org, event=event, name="bench entrance", all_ticket_types=False)
    area.ticket_types.set(event.ticket_types.all())
    point = AccessPoint.objects.create(organisation=ctx.org, area=area, name="bench gate")
    device, token = scanner_device_create(organisation=ctx.org, name="bench scanner", event=event, access_point=point)
    auth = f"Bearer {token}"
    out, cmd, http_errors = "", [wrk], 0
    try:
        client = Client()
        queries: list[int] = []
        for _, secret, public_id, order_code, _ in tickets[:2]:
            with CaptureQueriesContext(connection) as captured:
                response = client.post(path, {"code": secret}, content_type="application/json", HTTP_AUTHORIZATION=auth)
            queries.append(sum(q["sql"] not in ("BEGIN", "COMMIT") for q in captured.captured_queries))
            answer = response.json()
            if response.status_code != 200 or answer["result"] != "admitted":
                raise Wrong(f"ticket {public_id}: HTTP {response.status_code} {answer}")
            if (answer["ticket"]["id"], answer["ticket"]["order_code"]) != (public_id, order_code):
                raise Wrong(f"ticket {public_id} of order {order_code} answered as {answer['ticket']}")
        # The first one also reads the device (then kept a few seconds) and marks it seen (once a minute).
        result.queries = queries[-1]
        result.extra["sql_per_scan"] = queries
        server, port = _gunicorn(workers=1, threads=threads)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + "/accounts/login/", server)
            codes = ", ".join(f'"{secret}"' for _, secret, *_ in tickets[2:])
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(_SCANNER_LUA.replace("CODES", codes).replace("TOKEN", token).replace("PATH", path))
            # One wrk thread: one Lua state, so every request takes the next ticket.
            cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, base]
            cpu_before = _worker_cpu_seconds(server)
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            worker_cpu = _worker_cpu_seconds(server) - cpu_before
            os.unlink(script.name)
        finally:
            _stop(server)
        total = int(_wrk_field(out, "requests in", before=True) or 0)
        http_errors = _wrk_errors(out)
        wrong = _scanner_wrong(ctx, device.pk, tickets, total + 2, connections, before)
    finally:
        with transaction.atomic():
            _scanner_restore(device.pk, tickets)
            area.delete()
    rps = float(_wrk_field(out, "Requests/sec:") or 0)
    admitted, scans = wrong.pop("admitted"), wrong.pop("scans")
    # Past the end of the list wrk posts the tickets again: those repeats are denied, and not counted.
    wrapped = total + 2 > len(tickets)
    result.value = round(rps * (admitted - 2) / max(1, scans - 2), 1)
    result.samples = total
    lat = _wrk_latency(out)
    if lat:
        result.median, result.p95 = lat.get("50%"), lat.get("90%")
    problems = [f"{k}: {v}" for k, v in wrong.items() if v]
    result.correct = http_errors == 0 and not problems
    result.passed = result.correct and result.value >= 300
    result.status = "ok" if result.passed else "fail"
    result.note = (
        f"{total:,} scans of {min(total, len(tickets) - 2):,} distinct unused tickets of one event"
        f"{' (the list ran out: repeats denied, not counted)' if wrapped else ''}: {admitted - 2:,} admitted exactly once"
        f" (wrk stops with up to {connections} in flight),"
        f" {http_errors} HTTP errors{'; ' + '; '.join(problems) if problems else ''};"
        f" {result.queries} SQL statements a scan besides BEGIN and COMMIT; data restored afterwards;"
        " p95 column: wrk's 90th percentile"
    )
    # The worker's own CPU time a scan: what one free core would give, however busy the machine was.
    cpu_ms = round(worker_cpu * 1000 / total, 2) if total and worker_cpu > 0 else None
    if cpu_ms:
        result.note += f"; worker CPU {cpu_ms} ms a scan (≈ {1000 / cpu_ms:,.0f} scans/s on a whole core)"
    result.extra = {
        "wrk": out.strip(),
        "worker_cpu_ms_per_scan": cpu_ms,
        "command": " ".join(cmd[:-3] + ["-s", "<checkins.lua>", base]) if out else "",
    }
    return [result]


def _scanner_wrong(
    ctx: Ctx,
    device_id: int,
    tickets: list[tuple[int, str, str, str, Any]],
    posted: int,
    in_flight: int,
    before: tuple[int, int],
) -> dict[str, int]:
    """What the run got wrong, in plain SQL, each count 0 when right; plus how many scans it admitted of how many."""
    ids = [t[0] for t in tickets]
    per_ticket = _sql(
        """SELECT t.id, t.used_at, count(s.id) FILTER (WHERE s.result = 'admitted'), count(s.id),
                  min(s.scanned_at) FILTER (WHERE s.result = 'admitted'),
                  count(s.id) FILTER (WHERE s.result = 'denied' AND s.reason <> 'already_used')
           FROM tickets_ticket t LEFT JOIN tickets_scan s ON s.ticket_id = t.id
           WHERE t.id = ANY(%s) GROUP BY t.id""",
        [ids],
    )
    ((scans,), (admitted,)) = (
        _sql("SELECT count(*) FROM tickets_scan WHERE scanner_id = %s", [device_id])[0],
        _sql("SELECT count(*) FROM tickets_scan WHERE scanner_id = %s AND result = 'admitted'", [device_id])[0],
    )
    reached = sum(1 for row in per_ticket if row[3])
    used, all_scans = _scanner_state(ctx)
    return {
        "admitted": admitted,
        "scans": scans,
        "tickets admitted twice": sum(1 for row in per_ticket if row[2] > 1),
        "scanned tickets not admitted": sum(1 for row in per_ticket if row[3] and row[2] != 1),
        "denied for another reason than already used": sum(row[5] for row in per_ticket),
        "used_at not the admitted scan's time": sum(1 for row in per_ticket if row[2] == 1 and row[1] != row[4]),
        "unscanned tickets marked used": sum(1 for row in per_ticket if not row[3] and row[1] is not None),
        # Every request wrk counted reached the database; at most the connections' last ones more did.
        "posted tickets missing": max(0, min(posted, len(ids)) - reached),
        "tickets scanned that wrk never posted": max(0, reached - min(posted + in_flight, len(ids))),
        "scans elsewhere": (all_scans - before[1]) - scans,
        "tickets used elsewhere": (used - before[0]) - admitted,
    }


def _scanner_restore(device_id: int, tickets: list[tuple[int, str, str, str, Any]]) -> None:
    """Put the data back as the run found it: its scans and device gone, its tickets unused with their updated_at."""
    with connection.cursor() as cur:
        cur.execute("DELETE FROM tickets_scan WHERE scanner_id = %s", [device_id])
        cur.execute(
            "UPDATE tickets_ticket t SET used_at = NULL, updated_at = u.updated_at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(id, updated_at) WHERE t.id = u.id",
            [[t[0] for t in tickets], [t[4] for t in tickets]],
        )
        cur.execute("DELETE FROM tickets_scannerdevice WHERE id = %s", [device_id])
