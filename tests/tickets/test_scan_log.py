"""An event's scan log: newest first, filtered by area, point, result and time, paged by keyset through the
(event | area | point, scanned_at, id) indexes, so a deep page costs what the first does."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organiser_portal.models import Membership
from tests.factories import EventFactory
from tickets.models import AccessPoint, Scan
from tickets.selectors import ScanFilters, scan_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def scans(organisation, event, entrance, gate_a1, ticket):
    """120 scans a minute apart, alternating Gate A1 / Gate A2, every third denied; and another event's."""
    gate_a2 = AccessPoint.objects.get(name="Gate A2")
    start = event.starts_at
    Scan.objects.bulk_create(
        Scan(
            organisation=organisation,
            event=event,
            ticket=ticket,
            scanned_at=start + timedelta(minutes=n),
            area=entrance,
            point=(gate_a1, gate_a2)[n % 2],
            access_area="Main entrance",
            access_point=(gate_a1, gate_a2)[n % 2].name,
            result="denied" if n % 3 == 0 else "admitted",
            reason="already_used" if n % 3 == 0 else "",
            device="Gate A",
        )
        for n in range(120)
    )
    other = EventFactory(organisation=organisation)
    Scan.objects.create(organisation=organisation, event=other, raw_code="x", result="denied", reason="unknown")
    return list(Scan.objects.filter(event=event).order_by("-scanned_at", "-id"))


def _walk(event, filters, page_size=25) -> list[Scan]:
    rows, after = [], None
    while True:
        page = scan_log(event, filters, after=after, page_size=page_size)
        rows += page.rows
        if not page.next_cursor:
            return rows
        after = page.next_cursor


def test_the_log_is_newest_first_and_pages_forward_and_back(event, scans):
    assert _walk(event, ScanFilters()) == scans
    first = scan_log(event, ScanFilters(), page_size=25)
    second = scan_log(event, ScanFilters(), after=first.next_cursor, page_size=25)
    assert second.rows == scans[25:50] and second.prev_cursor
    back = scan_log(event, ScanFilters(), before=second.prev_cursor, page_size=25)
    assert back.rows == scans[:25] and back.prev_cursor is None


def test_filters_by_area_point_result_and_time(event, scans, entrance, gate_a1):
    assert _walk(event, ScanFilters(area=entrance)) == scans
    assert _walk(event, ScanFilters(point=gate_a1)) == [s for s in scans if s.point_id == gate_a1.pk]
    assert _walk(event, ScanFilters(result="denied")) == [s for s in scans if s.result == "denied"]
    since, until = event.starts_at + timedelta(minutes=10), event.starts_at + timedelta(minutes=20)
    assert _walk(event, ScanFilters(since=since, until=until)) == [s for s in scans if since <= s.scanned_at < until]


def test_the_page_filters_in_the_events_time_and_shows_what_is_wrong(client, member, event, scans, gate_a1):
    client.force_login(member(Membership.Role.VIEWER))
    url = reverse("event_scans", kwargs={"org": "festival", "event_id": event.public_id})
    local = (event.starts_at + timedelta(minutes=10)).astimezone(event.tzinfo)
    page = client.get(url, {"point": gate_a1.pk, "result": "admitted", "since": f"{local:%Y-%m-%dT%H:%M}"})
    text = page.content.decode()
    shown = [s for s in scans if s.point_id == gate_a1.pk and s.result == "admitted" and s.scanned_at >= local]
    assert page.status_code == 200 and text.count('<span class="badge text-bg-success">Admitted</span>') == len(shown)
    assert "Denied" not in text.split("<tbody>")[1]
    bad = client.get(url, {"since": "0001-01-01T00:00", "point": "999999"}).content.decode()
    assert "Choose a time between the years 2000 and 2100." in bad and "Select a valid choice" in bad
    assert bad.count("badge text-bg-") == 50  # the invalid filters are not applied: a full page


def test_a_deep_page_takes_the_same_one_query(event, scans):
    page = scan_log(event, ScanFilters(), page_size=10)
    for _ in range(8):
        with CaptureQueriesContext(connection) as queries:
            page = scan_log(event, ScanFilters(), after=page.next_cursor, page_size=10)
        assert len(queries) == 1


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's")
@pytest.mark.parametrize("which", ["all", "area", "point"])
def test_each_filter_reads_its_index_without_sorting(event, scans, entrance, gate_a1, which):
    filters = {"all": ScanFilters(), "area": ScanFilters(area=entrance), "point": ScanFilters(point=gate_a1)}[which]
    index = {"all": "scan_event_time", "area": "scan_area_time", "point": "scan_point_time"}[which]
    first = scan_log(event, filters, page_size=10)
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {Scan._meta.db_table}")
        cur.execute("SET LOCAL enable_seqscan = off")
    with CaptureQueriesContext(connection) as queries:
        scan_log(event, filters, after=first.next_cursor, page_size=10)
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (FORMAT JSON) {queries.captured_queries[0]['sql']}")
        ((plan,),) = cur.fetchone()
    nodes = list(_nodes(plan["Plan"]))
    assert index in {n.get("Index Name") for n in nodes}, nodes
    assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes)
