"""Every place a time is shown reads it on the event's clocks, labelled, whatever the server's own zone.

Each case is an event far from the server (New York, Sydney, Kolkata) on the night its clocks change (or, for
Kolkata, the night Berlin's do), with an order, a timeline entry and a first admission on either side of the change.
Each test runs with the server in Europe/Berlin and in UTC, and asserts the exact text a reader sees.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from notifications.emails import build_email
from notifications.models import OutgoingMessage
from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, TicketTypeFactory
from tickets import pdf
from tickets.services import scanner_device_create

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    zone: str
    starts: datetime
    ends: datetime
    ordered: datetime
    paid: datetime  # the time of the "Order paid" timeline entry
    admitted: datetime
    # What the reader sees:
    when: str  # the email's start, labelled
    pdf_when: str  # the PDF's start – end line
    starts_tag: str  # `{% event_time %}` of the start (order page, My events)
    ordered_text: str  # the order page's "Ordered"
    ordered_tag: str  # `{% event_time %}` of the order's creation (guest list, search results, customer page)
    paid_line: str  # the timeline entry's time
    admitted_message: str  # the scanner's answer to a second scan
    admitted_row: str  # the scan history's row


def tag(iso: str, text: str, label: str) -> str:
    return f'<time datetime="{iso}">{text}</time> <span class="text-secondary small">{label}</span>'


CASES = {
    # Daylight-saving time begins on Sunday 8 March 2026 at 02:00 EST → 03:00 EDT. Berlin is on CET: the event's
    # Saturday 19:00 is Sunday 01:00 there (what the ticket email used to announce).
    "new-york-spring": Case(
        zone="America/New_York",
        starts=utc(2026, 3, 8, 0, 0),
        ends=utc(2026, 3, 8, 8, 0),
        ordered=utc(2026, 3, 8, 6, 30),
        paid=utc(2026, 3, 8, 7, 30),
        admitted=utc(2026, 3, 8, 7, 2, 11),
        when="Saturday 7 March 2026, 19:00 EST",
        pdf_when="Saturday 7 March 2026, 19:00 EST – Sunday 8 March 2026, 04:00 EDT",
        starts_tag=tag("2026-03-07T19:00:00-05:00", "Sat 7 Mar 2026, 19:00", "EST"),
        ordered_text="Sun 8 Mar 2026, 01:30 EST",
        ordered_tag=tag("2026-03-08T01:30:00-05:00", "Sun 8 Mar 2026, 01:30", "EST"),
        paid_line='datetime="2026-03-08T03:30:00-04:00" title="8 Mar 2026, 03:30 EDT">8 Mar 2026, 03:30</time>',
        admitted_message="Already used: first admitted 08 Mar 2026, 03:02:11 EDT.",
        admitted_row="Sun 8 Mar 2026, 03:02:11 EDT",
    ),
    # Daylight-saving time ends on Sunday 1 November 2026 at 02:00 EDT → 01:00 EST: 01:30 happens twice, and the
    # order (first 01:30) and the payment (second 01:30) are an hour apart.
    "new-york-autumn": Case(
        zone="America/New_York",
        starts=utc(2026, 10, 31, 23, 0),
        ends=utc(2026, 11, 1, 8, 0),
        ordered=utc(2026, 11, 1, 5, 30),
        paid=utc(2026, 11, 1, 6, 30),
        admitted=utc(2026, 11, 1, 6, 10, 0),
        when="Saturday 31 October 2026, 19:00 EDT",
        pdf_when="Saturday 31 October 2026, 19:00 EDT – Sunday 1 November 2026, 03:00 EST",
        starts_tag=tag("2026-10-31T19:00:00-04:00", "Sat 31 Oct 2026, 19:00", "EDT"),
        ordered_text="Sun 1 Nov 2026, 01:30 EDT",
        ordered_tag=tag("2026-11-01T01:30:00-04:00", "Sun 1 Nov 2026, 01:30", "EDT"),
        paid_line='datetime="2026-11-01T01:30:00-05:00" title="1 Nov 2026, 01:30 EST">1 Nov 2026, 01:30</time>',
        admitted_message="Already used: first admitted 01 Nov 2026, 01:10:00 EST.",
        admitted_row="Sun 1 Nov 2026, 01:10:00 EST",
    ),
    # Sydney's daylight-saving time ends on Sunday 5 April 2026 at 03:00 AEDT → 02:00 AEST.
    "sydney-autumn": Case(
        zone="Australia/Sydney",
        starts=utc(2026, 4, 4, 9, 0),
        ends=utc(2026, 4, 4, 17, 0),
        ordered=utc(2026, 4, 4, 14, 45),
        paid=utc(2026, 4, 4, 16, 15),
        admitted=utc(2026, 4, 4, 15, 20, 5),
        when="Saturday 4 April 2026, 20:00 AEDT",
        pdf_when="Saturday 4 April 2026, 20:00 AEDT – Sunday 5 April 2026, 03:00 AEST",
        starts_tag=tag("2026-04-04T20:00:00+11:00", "Sat 4 Apr 2026, 20:00", "AEDT"),
        ordered_text="Sun 5 Apr 2026, 01:45 AEDT",
        ordered_tag=tag("2026-04-05T01:45:00+11:00", "Sun 5 Apr 2026, 01:45", "AEDT"),
        paid_line='datetime="2026-04-05T02:15:00+10:00" title="5 Apr 2026, 02:15 AEST">5 Apr 2026, 02:15</time>',
        admitted_message="Already used: first admitted 05 Apr 2026, 02:20:05 AEDT.",
        admitted_row="Sun 5 Apr 2026, 02:20:05 AEDT",
    ),
    # Kolkata keeps +05:30 all year, on the Sunday Berlin moves to CEST (29 March 2026, 01:00 UTC): the event's
    # times must not move with Berlin's.
    "kolkata": Case(
        zone="Asia/Kolkata",
        starts=utc(2026, 3, 29, 13, 30),
        ends=utc(2026, 3, 29, 17, 30),
        ordered=utc(2026, 3, 28, 20, 0),
        paid=utc(2026, 3, 29, 2, 0),
        admitted=utc(2026, 3, 29, 14, 5, 0),
        when="Sunday 29 March 2026, 19:00 IST",
        pdf_when="Sunday 29 March 2026, 19:00 – 23:00 IST",
        starts_tag=tag("2026-03-29T19:00:00+05:30", "Sun 29 Mar 2026, 19:00", "IST"),
        ordered_text="Sun 29 Mar 2026, 01:30 IST",
        ordered_tag=tag("2026-03-29T01:30:00+05:30", "Sun 29 Mar 2026, 01:30", "IST"),
        paid_line='datetime="2026-03-29T07:30:00+05:30" title="29 Mar 2026, 07:30 IST">29 Mar 2026, 07:30</time>',
        admitted_message="Already used: first admitted 29 Mar 2026, 19:35:00 IST.",
        admitted_row="Sun 29 Mar 2026, 19:35:00 IST",
    ),
}


@pytest.fixture(params=["Europe/Berlin", "UTC"])
def server_zone(request, settings):
    """The server's TIME_ZONE, set explicitly: the event's times must not depend on it."""
    settings.TIME_ZONE = request.param
    return request.param


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    return CASES[request.param]


@pytest.fixture
def order(case, server_zone, organisation, make_order) -> Order:
    """A paid order of an event in the case's zone, created and paid at the case's times."""
    event = EventFactory(
        organisation=organisation, name="Night Market", starts_at=case.starts, ends_at=case.ends, time_zone=case.zone
    )
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    Order.objects.filter(pk=order.pk).update(created_at=case.ordered, paid_at=case.paid)
    TimelineEntry.objects.filter(order=order, action="order.paid").update(created_at=case.paid)
    return Order.objects.select_related("event", "organisation").get(pk=order.pk)


@pytest.fixture
def agent_client(client, member):
    client.force_login(member(Membership.Role.SUPPORT))
    return client


def test_the_ticket_email_announces_the_events_local_start(order, case):
    message = OutgoingMessage.objects.select_related("order__event", "order__organisation").get(order=order)

    email = build_email(message)

    assert f"\nWhen:    {case.when} ({case.zone})\n" in email.body
    (html, mimetype) = email.alternatives[0]
    assert mimetype == "text/html"
    assert f"<td><strong>{case.when}</strong> ({case.zone})</td>" in html


def test_the_pdf_prints_the_events_local_start_and_end(order, case):
    page = PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0]
    text = " ".join(page.extract_text().split())  # the line wraps where the page ends

    assert case.pdf_when in text
    assert f"Time zone: {case.zone}" in text


def test_the_order_page_shows_the_events_times_with_their_label(order, case, agent_client):
    url = reverse("order_detail", kwargs={"org": order.organisation.slug, "code": order.code})

    page = agent_client.get(url).content.decode()

    assert f"<dt>Starts</dt><dd>{case.starts_tag}</dd>" in page
    assert f"<dt>Time zone</dt><dd>{case.zone} <span" in page
    assert f"<dt>Ordered</dt><dd>{case.ordered_text} · paid " in page
    assert case.paid_line + "\n            <span>Order paid</span>" in page
    assert f'Timeline <span class="small fw-normal text-secondary">({case.zone} time)</span>' in page


def test_the_guest_list_my_events_and_search_show_the_events_times(order, case, agent_client):
    org = order.organisation.slug
    guests = agent_client.get(reverse("event_guests", kwargs={"org": org, "event_id": order.event.public_id}))
    events = agent_client.get(reverse("my_events", kwargs={"org": org}))
    found = agent_client.get(reverse("search", kwargs={"org": org}), {"q": "Anna Müller"}, HTTP_HX_REQUEST="true")

    assert f'<td class="text-nowrap" data-label="Created">{case.ordered_tag}</td></tr>' in guests.content.decode()
    assert case.starts_tag in guests.content.decode()  # the event's heading
    assert f'<td class="card-key">{case.starts_tag}</td>' in events.content.decode()
    assert case.ordered_tag in found.content.decode()


def test_the_scanner_and_the_scan_history_show_the_first_admission_on_the_events_clocks(
    order, case, agent_client, client
):
    _, token = scanner_device_create(organisation=order.organisation, name="Gate A", event=order.event)
    ticket = order.tickets.get()
    api = {"content_type": "application/json", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = f'{{"code": "{ticket.secret}", "scanned_at": "{case.admitted.isoformat()}"}}'
    assert agent_client.post("/api/v1/check-ins/", body, **api).json()["result"] == "admitted"

    again = agent_client.post("/api/v1/check-ins/", f'{{"code": "{ticket.public_id}"}}', **api).json()
    history = agent_client.get(
        reverse(
            "ticket_scans", kwargs={"org": order.organisation.slug, "code": order.code, "ticket_id": ticket.public_id}
        )
    )

    assert again["message"] == case.admitted_message
    assert f'<td class="text-nowrap">{case.admitted_row}</td>' in history.content.decode()
    assert f"({case.zone} time)" in history.content.decode()


@pytest.mark.parametrize(
    ("server", "label"), [("Europe/Berlin", "29 Mar 2026, 01:30 CET"), ("UTC", "29 Mar 2026, 00:30 UTC")]
)
def test_a_customer_accounts_creation_is_shown_in_the_servers_zone_labelled(
    server, label, settings, organisation, agent_client
):
    """An account belongs to no event: its time is the server's, and says so."""
    settings.TIME_ZONE = server
    customer = CustomerFactory(organisation=organisation)
    type(customer).objects.filter(pk=customer.pk).update(created_at=utc(2026, 3, 29, 0, 30))

    page = agent_client.get(reverse("customer_detail", kwargs={"org": organisation.slug, "customer_id": customer.pk}))

    assert f'title="{label}">29 Mar 2026</time>' in page.content.decode()
