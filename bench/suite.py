"""The benchmarks of issue 5, each a function that measures one figure and checks its own answer.

Every benchmark takes a `Ctx` (the scale organisation, a logged-in support agent, sample
orders chosen from the data with a seeded RNG, ground truth computed with plain SQL that
does not go through the code under test) and an iteration count, and returns a `Result`.
A fast wrong answer fails: each request's response is checked (the search finds the
expected order, the order page shows every ticket ID, the guest list shows the expected
rows). A feature that doesn't exist yet is reported as skipped ("not built yet"), never faked.
"""

from __future__ import annotations

import html
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from organiser_portal.models import Event, Organisation

from .seed_scale import ORG_SLUG, SUPPORT_USERNAME, SURNAMES

ROOT = Path(__file__).resolve().parent.parent
GUEST_PAGE_SIZE = 50


class NotBuilt(Exception):
    """The feature this benchmark measures doesn't exist yet."""


class Wrong(AssertionError):
    """The answer was wrong: the benchmark fails whatever its speed."""


@dataclass
class Result:
    name: str
    group: str
    target: str
    status: str = "ok"  # ok | fail | skipped | error
    unit: str = "ms"
    median: float | None = None
    p95: float | None = None
    value: float | None = None  # throughput-style figures (requests/s …)
    samples: int = 0
    queries: int | None = None
    correct: bool | None = None
    passed: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _sql(query: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


@dataclass
class Ctx:
    org: Organisation
    client: Client
    user: Any
    rng: random.Random
    orders_1: list[str]  # codes of paid orders with one ticket
    orders_10: list[str]  # … with ten tickets
    big_event: Event
    events: list[Event]
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, *, seed: int = 1, samples: int = 20) -> Ctx:
        org = Organisation.objects.get(slug=ORG_SLUG)
        user = get_user_model().objects.get(username=SUPPORT_USERNAME)
        client = Client()
        client.force_login(user)
        rng = random.Random(seed)
        events = list(Event.objects.filter(organisation=org).order_by("id"))
        counts = dict(
            _sql("SELECT event_id, count(*) FROM orders_order WHERE organisation_id = %s GROUP BY 1", [org.pk])
        )
        big = max(events, key=lambda e: counts.get(e.pk, 0))
        return cls(
            org=org,
            client=client,
            user=user,
            rng=rng,
            orders_1=_orders_with_tickets(org, 1, samples, rng),
            orders_10=_orders_with_tickets(org, 10, samples, rng),
            big_event=big,
            events=events,
        )


def _orders_with_tickets(org: Organisation, n: int, samples: int, rng: random.Random) -> list[str]:
    """Paid orders with exactly n tickets, spread over the whole table (a seeded sample of ids)."""
    (max_id,) = _sql("SELECT max(id) FROM orders_order WHERE organisation_id = %s", [org.pk])[0]
    found: list[str] = []
    tries = 0
    while len(found) < samples and tries < 200:
        tries += 1
        start = rng.randint(1, max_id)
        rows = _sql(
            """SELECT o.code FROM orders_order o
               WHERE o.organisation_id = %s AND o.id >= %s AND o.status = 'paid'
                 AND (SELECT count(*) FROM tickets_ticket t WHERE t.order_id = o.id) = %s
               ORDER BY o.id LIMIT 1""",
            [org.pk, start, n],
        )
        if rows and rows[0][0] not in found:
            found.append(rows[0][0])
    if not found:
        raise Wrong(f"no paid order with {n} tickets in the data")
    return found


def _url(name: str, **kwargs: Any) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch as exc:
        raise NotBuilt(f"URL {name!r} doesn't exist") from exc


def _timed_requests(
    ctx: Ctx, requests: list[tuple[str, Callable[[Any], None]]], iterations: int, warmup: int = 2
) -> tuple[list[float], list[int]]:
    """GET each (url, check) in turn through the test client: server time in ms and SQL queries per request."""
    for url, check in requests[:warmup]:
        check(ctx.client.get(url))
    times: list[float] = []
    for i in range(iterations):
        url, check = requests[i % len(requests)]
        t = time.perf_counter()
        response = ctx.client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        check(response)
    queries = []
    for url, check in requests:
        with CaptureQueriesContext(connection) as captured:
            check(ctx.client.get(url))
        queries.append(len(captured.captured_queries))
    return times, queries


def _ms_result(result: Result, times: list[float], median_max: float | None, p95_max: float) -> Result:
    result.samples = len(times)
    result.median = round(statistics.median(times), 2)
    result.p95 = round(p95(times), 2)
    result.correct = True
    result.passed = (median_max is None or result.median <= median_max) and result.p95 <= p95_max
    result.status = "ok" if result.passed else "fail"
    return result


# --- order-detail page ---------------------------------------------------------------------


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


# --- search --------------------------------------------------------------------------------


def _search_url(ctx: Ctx, q: str) -> str:
    return _url("search", org=ctx.org.slug) + "?" + urlencode({"q": q})


def _expect_codes(codes: list[str], label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code != 200:
            raise Wrong(f"search {label}: HTTP {response.status_code}")
        text = _text(response)
        if not any(c in text for c in codes):
            raise Wrong(f"search {label}: expected order {codes[0]} not in the results")

    return check


def _expect_redirect(code: str, label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code == 302:
            if not response["Location"].rstrip("/").endswith(f"/orders/{code}"):
                raise Wrong(f"search {label} jumped to {response['Location']}, expected order {code}")
            return
        if response.status_code != 200 or code not in _text(response):
            raise Wrong(f"search {label}: expected order {code}")

    return check


def _expect_text(needle: str, at_least: int, label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code != 200:
            raise Wrong(f"search {label}: HTTP {response.status_code}")
        found = _text(response).lower().count(needle.lower())
        if found < at_least:
            raise Wrong(f"search {label}: {needle!r} shown {found} times, expected at least {at_least}")

    return check


def _sample_orders(ctx: Ctx, n: int, where: str = "TRUE", params: tuple = ()) -> list[tuple]:
    """Seeded sample of (id, code, contact_name, contact_email, contact_phone) spread over the table."""
    (max_id,) = _sql("SELECT max(id) FROM orders_order WHERE organisation_id = %s", [ctx.org.pk])[0]
    rows: list[tuple] = []
    for _ in range(n * 4):
        got = _sql(
            f"SELECT id, code, contact_name, contact_email, contact_phone FROM orders_order "
            f"WHERE organisation_id = %s AND id >= %s AND {where} ORDER BY id LIMIT 1",
            [ctx.org.pk, ctx.rng.randint(1, max_id), *params],
        )
        if got and got[0] not in rows:
            rows.append(got[0])
        if len(rows) >= n:
            break
    return rows


def _search_targets(ctx: Ctx, kind: str, n: int = 10) -> list[tuple[str, Callable[[Any], None]]]:
    """(url, check) pairs for one kind of search, with the answers worked out in plain SQL."""
    org = ctx.org.pk
    out: list[tuple[str, Callable[[Any], None]]] = []
    if kind == "order code":
        for _, code, *_ in _sample_orders(ctx, n):
            out.append((_search_url(ctx, code), _expect_redirect(code, kind)))
    elif kind == "ticket ID":
        for _, code, *_ in _sample_orders(ctx, n, "status = 'paid'"):
            (tid,) = _sql(
                "SELECT public_id FROM tickets_ticket WHERE order_id = (SELECT id FROM orders_order WHERE organisation_id = %s AND code = %s) ORDER BY id LIMIT 1",
                [org, code],
            )[0]
            out.append((_search_url(ctx, tid.lower() if ctx.rng.random() < 0.3 else tid), _expect_redirect(code, kind)))
    elif kind == "exact email":
        for _, _, _, email, _ in _sample_orders(ctx, n * 3):
            codes = [
                c
                for (c,) in _sql(
                    "SELECT code FROM orders_order WHERE organisation_id = %s AND lower(contact_email) = lower(%s) ORDER BY created_at DESC, id DESC",
                    [org, email],
                )
            ]
            if len(codes) <= 10:
                out.append(
                    (_search_url(ctx, email.upper() if ctx.rng.random() < 0.2 else email), _expect_codes(codes, kind))
                )
    elif kind == "email fragment":
        for _, _, _, email, _ in _sample_orders(ctx, n * 4):
            local = email.split("@")[0]
            frag = local[1:] + "@"  # what someone types who lost the first letter: "nna.weber37@"
            if len(frag) < 6:
                continue
            codes = [
                c
                for (c,) in _sql(
                    "SELECT code FROM orders_order WHERE organisation_id = %s AND UPPER(contact_email) LIKE UPPER(%s) ORDER BY created_at DESC, id DESC",
                    [org, f"%{frag}%"],
                )
            ]
            if 0 < len(codes) <= 10:
                out.append((_search_url(ctx, frag), _expect_codes(codes, kind)))
    elif kind == "phone":
        for _, _, _, _, phone in _sample_orders(ctx, n * 3, "contact_phone <> ''"):
            codes = [
                c
                for (c,) in _sql(
                    "SELECT code FROM orders_order WHERE organisation_id = %s AND contact_phone = %s ORDER BY created_at DESC, id DESC",
                    [org, phone],
                )
            ]
            if len(codes) <= 10:
                typed = f"{phone[:3]} {phone[3:6]} {phone[6:]}"  # "+49 151 23456789", as people type it
                out.append((_search_url(ctx, typed), _expect_codes(codes, kind)))
    elif kind == "surname":
        for _, _, name, _, _ in _sample_orders(ctx, n):
            surname = name.split()[-1]
            out.append((_search_url(ctx, surname), _expect_text(surname, 3, kind)))
    elif kind == "full name":
        for _, code, name, _, _ in _sample_orders(ctx, n):
            ((count,),) = _sql(
                "SELECT count(*) FROM orders_order WHERE organisation_id = %s AND UPPER(contact_name) LIKE UPPER(%s)",
                [org, f"%{name}%"],
            )
            # A rare name: that very order is on the first page. A common one: the page lists people of that name.
            check = _expect_codes([code], kind) if count <= 10 else _expect_text(name, 3, kind)
            out.append((_search_url(ctx, name), check))
    elif kind == "misspelt surname":
        for _, _, name, _, _ in _sample_orders(ctx, n * 3):
            surname = name.split()[-1]
            if len(surname) < 7:  # shorter names lose too many trigrams to one typo for any similarity search
                continue
            i = ctx.rng.randint(2, len(surname) - 2)
            typo = surname[:i] + surname[i + 1 :]  # one letter dropped: "Schneier" for "Schneider"
            if typo in SURNAMES:  # "Hofmann" for "Hoffmann" is another real name, not a typo
                continue
            out.append((_search_url(ctx, typo), _expect_text(surname, 1, kind)))
    if not out:
        raise Wrong(f"no sample for search by {kind}")
    return out[:n]


SEARCH_KINDS = (
    "exact email",
    "email fragment",
    "order code",
    "ticket ID",
    "phone",
    "surname",
    "full name",
    "misspelt surname",
)


def _timed_pages(
    ctx: Ctx, group: str, cases: Sequence[str], targets: Callable[[Ctx, str], list], p95_max: float, iterations: int
) -> list[Result]:
    """One result per case: its pages' server time through the test client, every answer checked."""
    results = []
    for case in cases:
        result = Result(f"{group}: {case}", group, f"p95 ≤ {p95_max:g} ms")
        try:
            times, queries = _timed_requests(ctx, targets(ctx, case), iterations)
        except Wrong as exc:
            result.status, result.correct, result.passed, result.note = "fail", False, False, str(exc)
        else:
            _ms_result(result, times, None, p95_max)
            result.queries = max(queries)
        results.append(result)
    return results


def bench_search(ctx: Ctx, *, iterations: int = 40) -> list[Result]:
    _url("search", org=ctx.org.slug)
    return _timed_pages(ctx, "search", SEARCH_KINDS, _search_targets, 25, iterations)


# --- event guest list ------------------------------------------------------------------------


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


# --- order-detail page under load: gunicorn (2 workers) + wrk ---------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(*, workers: int, threads: int = 1) -> tuple[subprocess.Popen, int]:
    """A real gunicorn on 127.0.0.1 (never port 8000) against this database, DEBUG off.

    threads > 1: gthread with that many threads, as production runs it (gunicorn.conf.py, GUNICORN_THREADS=8
    in docker-compose.yml and the Dockerfile).
    """
    db = settings.DATABASES["default"]
    port = int(os.environ.get("BENCH_PORT") or _free_port())
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "gunicorn", "organiser_portal.wsgi", "-w", str(workers)]
    cmd += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True), port


def _wait_for(url: str, server: subprocess.Popen) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited") from None
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer")


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=20)


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


def _http_check(url: str, session: str, check: Callable[[Any], None]) -> None:
    req = urllib.request.Request(url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()

    class R:
        status_code = resp.status
        content = body

    check(R)


def _wrk_field(out: str, label: str, before: bool = False) -> str | None:
    for line in out.splitlines():
        if label in line:
            if before:
                return line.split(label)[0].split()[-1]
            return line.split(label)[1].split()[0]
    return None


def _wrk_errors(out: str) -> int:
    errors = 0
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Non-2xx or 3xx responses:"):
            errors += int(line.split(":")[1])
        if line.startswith("Socket errors:"):
            errors += sum(int(part.split()[-1]) for part in line.split(":", 1)[1].split(","))
    return errors


def _wrk_latency(out: str) -> dict[str, float]:
    lat: dict[str, float] = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if "Latency Distribution" in line:
            for row in lines[i + 1 : i + 5]:
                pct, value = row.split()
                lat[pct] = _ms(value)
    return lat


def _ms(value: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if value.endswith(suffix):
            return round(float(value[: -len(suffix)]) * factor, 2)
    return float(value)


# --- the other teams' scripts and features not built yet ----------------------------------------------------


def bench_script(
    name: str,
    label: str,
    group: str,
    target: str,
    parse: Callable[[str, Result], list[Result]] | None = None,
    args: list[str] | None = None,
) -> Callable[..., list[Result]]:
    """Run bench/<name>.py (written with the feature it measures) with `args` and keep what it prints."""

    def run(ctx: Ctx | None = None, **_: Any) -> list[Result]:
        path = ROOT / "bench" / f"{name}.py"
        result = Result(label, group, target, unit="")
        if not path.exists():
            result.status, result.note = "skipped", f"not built yet (bench/{name}.py doesn't exist)"
            return [result]
        proc = subprocess.run(
            [sys.executable, str(path), *(args or [])], cwd=ROOT, capture_output=True, text=True, timeout=1800
        )
        result.extra = {"stdout": proc.stdout[-6000:], "stderr": proc.stderr[-3000:], "returncode": proc.returncode}
        result.status = "ok" if proc.returncode == 0 else "error"
        result.correct = proc.returncode == 0
        result.note = f"as printed by bench/{name}.py, which checks its own output"
        if parse is not None and proc.returncode == 0:
            try:
                return [result, *parse(proc.stdout, result)]
            except (ValueError, IndexError):
                result.note += " (figures not parsed)"
        return [result]

    return run


def _parse_pdf(out: str, script: Result) -> list[Result]:
    figures = []
    for size, limit in ((1, 50.0), (10, 400.0)):
        m = re.search(rf"\b{size}-ticket order: median\s+([\d.]+) ms, p95\s+([\d.]+) ms", out)
        if m is None:
            raise ValueError(size)
        r = Result(f"PDF tickets, {size}-ticket order (warm)", "PDF", f"≤ {limit:g} ms")
        r.median, r.p95 = float(m[1]), float(m[2])
        r.correct, r.samples = True, 1
        r.passed = r.median <= limit
        r.status = "ok" if r.passed else "fail"
        r.note = "median over the script's rounds"
        figures.append(r)
    m = re.search(r"content cache hit\): ([\d.]+) ms", out)
    if m:
        r = Result("PDF tickets, resend of unchanged tickets", "PDF", "renders nothing again")
        r.median, r.correct, r.samples = float(m[1]), True, 1
        r.passed = r.median < 5
        r.status = "ok" if r.passed else "fail"
        figures.append(r)
    script.status, script.passed = "ok", None
    return figures


def _parse_email(out: str, script: Result) -> list[Result]:
    m = re.search(r"→ ([\d.]+) emails/s", out)
    if m is None:
        raise ValueError("emails/s")
    r = Result("ticket emails through one Celery worker, 1 ticket each", "email", "≥ 12 emails/s", unit="emails/s")
    r.value, r.correct, r.samples = float(m[1]), True, 1
    r.passed = r.value >= 12
    r.status = "ok" if r.passed else "fail"
    return [r]


def _parse_memory(out: str, script: Result) -> list[Result]:
    m = re.search(r"RSS growth over ([\d,]+) renders: (-?[\d.]+) MB \(start ([\d.]+) MB, end ([\d.]+) MB", out)
    if m is None:
        raise ValueError("RSS growth")
    renders = int(m[1].replace(",", ""))
    r = Result(f"worker memory over {renders:,} PDF renders", "PDF", "RSS growth < 50 MB", unit="MB")
    r.value, r.correct, r.samples = float(m[2]), True, renders
    r.passed = r.value < 50
    r.status = "ok" if r.passed else "fail"
    r.note = f"RSS {m[3]} MB after warm-up → {m[4]} MB; PDF text checked every {min(500, max(1, renders // 4))} renders"
    r.extra["rss_every_1000"] = re.findall(r"after\s+([\d,]+) renders: RSS\s+([\d.]+) MB", out)
    script.status, script.passed = "ok", None
    return [r]


def bench_pdf_memory(ctx: Ctx | None = None, *, renders: int = 10_000, **_: Any) -> list[Result]:
    """bench/bench_memory.py: one warm process renders `renders` distinct PDFs; RSS start → end."""
    args = ["--renders", str(renders), "--every", str(max(1, min(1000, renders // 10)))]
    args += ["--check-every", str(max(1, min(500, renders // 4)))]
    results = bench_script("bench_memory", "bench/bench_memory.py", "PDF", "its own checks", _parse_memory, args)(ctx)
    if len(results) == 2:  # one row, the figure (with the script's output), in place of the script's row
        script, figure = results
        figure.extra["stdout"] = script.extra["stdout"]
        return [figure]
    return results


def not_built(label: str, group: str, target: str, why: str) -> Callable[..., list[Result]]:
    def run(ctx: Ctx | None = None, **_: Any) -> list[Result]:
        return [Result(label, group, target, status="skipped", note=f"not built yet: {why}")]

    return run


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
    posted by wrk to one gunicorn worker (gthread, `threads` threads), each with its own client_scan_id.

    Checked afterwards in plain SQL: every posted ticket admitted exactly once, its used_at the scan's
    time, the tickets not reached untouched, and nothing else in the organisation changed. Then the
    data is put back (the run's scans and device deleted, used_at and updated_at restored), so the
    suite can run again. Two scans go first through Django's test client: their JSON answers are
    checked against the data, and the second one's SQL statements counted.
    """
    from django.db import transaction

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
    device, token = scanner_device_create(organisation=ctx.org, name="bench scanner", event=event)
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


def _worker_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU time of the gunicorn master's worker processes so far (Linux /proc); 0 where unknown."""
    try:
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
            workers = f.read().split()
        total = 0.0
        for pid in workers:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total
    except OSError:
        return 0.0


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


BENCHMARKS: dict[str, Callable[..., list[Result]]] = {
    "order_detail": bench_order_detail,
    "order_detail_load": bench_order_detail_load,
    "search": bench_search,
    "guest_list": bench_guest_list,
    "pdf": bench_script("bench_pdf", "bench/bench_pdf.py", "PDF", "its own checks", _parse_pdf),
    "pdf_memory": bench_pdf_memory,
    "email": bench_script("bench_email", "bench/bench_email.py", "email", "its own checks", _parse_email),
    "webhooks": bench_webhooks,
    "scanner": bench_scanner,
}
