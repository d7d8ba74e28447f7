"""What every benchmark shares: the context it runs in (`Ctx`), its `Result`, and timing pages through the test client."""

from __future__ import annotations

import html
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from organiser_portal.models import Event, Organisation

from .seed_scale import ORG_SLUG, SUPPORT_USERNAME

ROOT = Path(__file__).resolve().parent.parent


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


def _expect_codes(codes: list[str], label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code != 200:
            raise Wrong(f"search {label}: HTTP {response.status_code}")
        text = _text(response)
        if not any(c in text for c in codes):
            raise Wrong(f"search {label}: expected order {codes[0]} not in the results")

    return check
