"""The support agent's pages: an order's page (through the test client and under load) and an event's guest list."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from organiser_portal.models import Event

from .common import Ctx, Result, Wrong, _expect_codes, _ms_result, _sql, _text, _timed_pages, _timed_requests, _url
from .load import _gunicorn, _http_check, _stop, _wrk_errors, _wrk_field, _wrk_latency

# --- order-detail page ----------------------------------------------------------------------------


def _order_check(code: str, ticket_ids: list[str]) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code != 200:
            raise Wrong(f"order {code}: HTTP {response.status_code}")
        text = _text(response)
        if code not in text:
            raise Wrong(f"order page doesn't show its code {code}")
        missing = [t for t in ticket_ids if t not in text]
        if missing:
            raise Wrong(f"order page {code} doesn't show ticket IDs {missing}")

    return check


def _order_requests(ctx: Ctx, codes: list[str]) -> list[tuple[str, Callable[[Any], None]]]:
    requests = []
    for code in codes:
        ids = [
            t
            for (t,) in _sql(
                "SELECT t.public_id FROM tickets_ticket t JOIN orders_order o ON o.id = t.order_id WHERE o.organisation_id = %s AND o.code = %s",
                [ctx.org.pk, code],
            )
        ]
        requests.append((_url("order_detail", org=ctx.org.slug, code=code), _order_check(code, ids)))
    return requests


def bench_order_detail(ctx: Ctx, *, iterations: int = 60) -> list[Result]:
    results = []
    per_size: dict[int, list[int]] = {}
    for size, codes in ((1, ctx.orders_1), (10, ctx.orders_10)):
        result = Result(
            f"order detail, {size} ticket{'s' if size > 1 else ''}",
            "order page",
            "median ≤ 20 ms, p95 ≤ 35 ms, SQL ≤ 12 and equal for 1 and 10 tickets",
        )
        times, queries = _timed_requests(ctx, _order_requests(ctx, codes), iterations)
        _ms_result(result, times, 20, 35)
        result.queries = max(queries)
        per_size[size] = queries
        result.extra["sample_orders"] = codes[:5]
        result.extra["queries_per_sample"] = queries
        results.append(result)
    # The most queries any sampled order needs: optional sections (a linked customer account, refunds)
    # may add a query, but the count must not grow with the tickets.
    same = max(per_size[1]) == max(per_size[10])
    for result in results:
        result.extra["queries_equal_for_1_and_10"] = same
        ok = result.queries is not None and result.queries <= 12 and same
        result.passed = bool(result.passed and ok)
        result.status = "ok" if result.passed else "fail"
        if not same:
            result.note = f"query counts differ: 1 ticket {per_size[1]}, 10 tickets {per_size[10]}"
    return results


# --- order-detail page under load: gunicorn (2 workers) + wrk -------------------------------------


def bench_order_detail_load(ctx: Ctx, *, duration: int = 15, connections: int = 4) -> list[Result]:
    result = Result(
        "order detail under load (gunicorn 2 workers, wrk 4 connections)",
        "order page",
        "≥ 100 requests/s, no errors",
        unit="requests/s",
    )
    wrk = shutil.which("wrk")
    if wrk is None:
        result.status, result.note = "skipped", "wrk is not installed (apt-get install wrk)"
        return [result]
    ctx.client.get("/")  # make sure the session is stored
    session = ctx.client.cookies[settings.SESSION_COOKIE_NAME].value
    codes = ctx.orders_1[:10] + ctx.orders_10[:10]
    paths = [_url("order_detail", org=ctx.org.slug, code=c) for c in codes]
    server, port = _gunicorn(workers=2)
    try:
        base = f"http://127.0.0.1:{port}"
        checks = _order_requests(ctx, codes)
        for attempt in range(100):
            try:
                _http_check(base + paths[0], session, checks[0][1])
                break
            except (OSError, urllib.error.URLError):
                if attempt == 99:
                    raise
                time.sleep(0.1)
        for path, (_, check) in zip(paths, checks):  # every URL answers right through gunicorn
            _http_check(base + path, session, check)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_WRK_LUA.replace("PATHS", ", ".join(f'"{p}"' for p in paths)))
        cmd = [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            script.name,
            "-H",
            f"Cookie: {settings.SESSION_COOKIE_NAME}={session}",
            base,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        os.unlink(script.name)
    finally:
        _stop(server)
    rps = float(_wrk_field(out, "Requests/sec:") or 0)
    errors = _wrk_errors(out)
    result.value = round(rps, 1)
    result.extra = {"wrk": out.strip(), "errors": errors, "command": " ".join(cmd[:-3] + ["-H", "'Cookie: …'", base])}
    lat = _wrk_latency(out)
    if lat:
        result.median, result.p95 = lat.get("50%"), lat.get("90%")
        result.extra["latency_ms"] = lat
        result.unit = "requests/s"
    result.samples = int(_wrk_field(out, "requests in", before=True) or 0)
    result.correct = errors == 0
    result.passed = rps >= 100 and errors == 0
    result.status = "ok" if result.passed else "fail"
    result.note = "p95 column shows wrk's 90th percentile latency (ms)"
    return [result]


_WRK_LUA = """
paths = {PATHS}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


# --- event guest list -----------------------------------------------------------------------------


GUEST_PAGE_SIZE = 50


def _guest_list_url(ctx: Ctx, event: Event, **params: Any) -> str:
    url = _url("event_guests", org=ctx.org.slug, event_id=event.public_id)
    return url + ("?" + urlencode(params) if params else "")


def _guest_list_targets(ctx: Ctx, variant: str) -> list[tuple[str, Callable[[Any], None]]]:
    """(url, check) for a variant; the expected first row of the page comes from plain SQL."""
    out = []
    events = sorted(ctx.events, key=lambda e: e.pk != ctx.big_event.pk)[:4]
    for event in events:
        where, params, query = "TRUE", [], {}
        offset = 0
        if variant == "page 1,000":
            if event.pk != ctx.big_event.pk:
                continue
            # Page 1,000 of the biggest event (a smaller data set: its last full page).
            ((count,),) = _sql("SELECT count(*) FROM orders_order WHERE event_id = %s", [event.pk])
            page = min(1000, count // GUEST_PAGE_SIZE)
            ctx.cache["guest_list_deep_page"] = page
            offset = (page - 1) * GUEST_PAGE_SIZE
        elif variant == "filtered by bounced":
            where, query = "email_status = 'bounced'", {"email_status": "bounced"}
        elif variant == "status + search":
            surname = ctx.rng.choice(("Schmidt", "Weber", "Kowalski", "Wagner", "Becker"))
            where, params, query = (
                "status = 'paid' AND (UPPER(contact_name) LIKE UPPER(%s) OR UPPER(contact_email) LIKE UPPER(%s))",
                [f"%{surname}%", f"%{surname}%"],
                {"status": "paid", "q": surname},
            )
        rows = _sql(
            f"SELECT id, code, created_at FROM orders_order WHERE organisation_id = %s AND event_id = %s AND {where} "
            f"ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 2",
            [ctx.org.pk, event.pk, *params, max(0, offset - 1)],
        )
        if not rows or (offset and len(rows) < 2):
            continue
        if offset:
            before, first = rows
            query = {"after": f"{before[2].isoformat()}~{before[0]}"}
            expected = first[1]
        else:
            expected = rows[0][1]
        out.append((_guest_list_url(ctx, event, **query), _expect_codes([expected], f"guest list {variant}")))
    if not out:
        raise Wrong(f"no sample for guest list {variant}")
    return out


GUEST_LIST_VARIANTS = ("page 1", "page 1,000", "filtered by bounced", "status + search")


def bench_guest_list(ctx: Ctx, *, iterations: int = 40) -> list[Result]:
    _url("event_guests", org=ctx.org.slug, event_id=ctx.big_event.public_id)
    results = _timed_pages(ctx, "guest list", GUEST_LIST_VARIANTS, _guest_list_targets, 40, iterations)
    deep = ctx.cache.get("guest_list_deep_page")
    for result in results:
        if result.name == "guest list: page 1,000" and result.correct and deep != 1000:
            result.note = f"data set too small: page {deep} measured"
    return results
