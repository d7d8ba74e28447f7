"""The order detail page: every section, what each role sees, and a query count that does not grow."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, Refund
from orders.timeline import timeline_record
from organiser_portal.models import Membership
from tests.factories import DeliveryEventFactory, OutgoingMessageFactory, ScanFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def order_url(order: Order) -> str:
    return reverse("order_detail", kwargs={"org": order.organisation.slug, "code": order.code})


def bounce(order: Order, reason: str = "mailbox does not exist") -> None:
    """The tickets email of `order` bounced at 13:02 UTC (14:02 in Berlin in winter)."""
    at = datetime(2026, 1, 15, 13, 2, tzinfo=UTC)
    message = OutgoingMessageFactory(order=order, status="bounced", status_reason=reason, status_at=at)
    DeliveryEventFactory(message=message, event_type="bounced", reason=reason, occurred_at=at)
    Order.objects.filter(pk=order.pk).update(email_status="bounced")


def test_order_page_shows_every_section(client, member, make_order):
    order = make_order(quantity=2, contact_phone="+49 151 1234567", address="Hauptstr. 1\n10115 Berlin")
    bounce(order)
    ticket = order.tickets.first()
    ScanFactory(ticket=ticket, access_area="North hall", scanned_at=datetime(2026, 2, 1, 18, 30, tzinfo=UTC))
    client.force_login(member(Role.SUPPORT))

    page = client.get(order_url(order)).content.decode()

    assert order.code in page
    assert "Paid" in page
    assert "Order email status" in page
    assert "Bounced" in page and "mailbox does not exist" in page
    assert "15 Jan, 14:02" in page  # the bounce time in the event's time zone (Europe/Berlin)
    assert "+49 1511234567" in page and "Hauptstr. 1" in page
    assert "Guest checkout" in page
    assert order.event.public_id in page
    assert "including taxes" in page
    assert "105.00\xa0EUR" in page  # 2 × 50.00 + 2 × 2.50 fees
    assert "Refunded so far" in page
    for t in order.tickets.all():
        assert t.public_id in page
    assert "Valid · unused" in page
    assert "North hall · 1 Feb 2026, 19:30" in page  # last scan, event time zone
    assert "N/A" in page  # the second ticket was never scanned
    assert "Scan history" in page
    assert "bounced" in page.lower()  # the delivery event under the message
    assert "Order paid" in page and "Order reserved" in page
    assert "test" in page  # the payment provider


def test_order_page_shows_partial_refund_label_and_refunds(client, member, make_order):
    order = make_order(quantity=2)
    Order.objects.filter(pk=order.pk).update(refunded_total=Decimal("20.00"))
    Refund.objects.create(
        organisation=order.organisation,
        order=order,
        amount=Decimal("20.00"),
        booking_fee_kept=Decimal("1.00"),
        status=Refund.Status.FAILED,
        error="Card expired",
        idempotency_key="r1",
    )
    client.force_login(member(Role.VIEWER))

    page = client.get(order_url(order)).content.decode()

    assert "Paid · partially refunded" in page
    assert "Refund error" in page and "Card expired" in page
    assert "20.00\xa0EUR</span> refunded" in page  # beside the status badge
    refunds = page[page.index('id="refunds-h"') :]
    assert "Booking fee kept" in refunds and "1.00\xa0EUR" in refunds
    assert "Retry" not in refunds  # a viewer may not refund


def test_timeline_is_newest_first_with_actor(client, member, make_order):
    order = make_order()
    agent = member(Role.SUPPORT)
    timeline_record(order=order, action="tickets.resent", actor=agent, data={"recipient": "new@example.com"})
    client.force_login(agent)

    page = client.get(order_url(order)).content.decode()

    assert page.index("Tickets resent to new@example.com") < page.index("Order paid") < page.index("Order reserved")
    assert agent.email in page


def test_scan_history_lists_every_scan_as_a_page_and_as_a_partial(client, member, make_order):
    order = make_order()
    ticket = order.tickets.get()
    ScanFactory(ticket=ticket, access_area="North hall", access_point="Gate 3")
    ScanFactory(ticket=ticket, access_area="VIP", result="denied", reason="already_used")
    client.force_login(member(Role.VIEWER))
    url = reverse(
        "ticket_scans", kwargs={"org": order.organisation.slug, "code": order.code, "ticket_id": ticket.public_id}
    )

    full = client.get(url).content.decode()
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()

    for page in (full, partial):
        assert "Gate 3" in page and "North hall" in page and "Already used" in page
    assert "<html" in full and "<html" not in partial


def test_never_scanned_ticket_says_so(client, member, make_order):
    order = make_order()
    ticket = order.tickets.get()
    client.force_login(member(Role.VIEWER))
    url = reverse(
        "ticket_scans", kwargs={"org": order.organisation.slug, "code": order.code, "ticket_id": ticket.public_id}
    )
    assert "Never scanned" in client.get(url).content.decode()


def _queries_for(client, order) -> int:
    url = order_url(order)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _busy(order: Order, *, messages: int, scans_per_ticket: int) -> None:
    for n in range(messages):
        message = OutgoingMessageFactory(order=order, created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n))
        DeliveryEventFactory(message=message)
        timeline_record(order=order, action="email.sent", data={"kind": "Tickets", "recipient": order.contact_email})
    for ticket in order.tickets.all():
        for _ in range(scans_per_ticket):
            ScanFactory(ticket=ticket)
    Refund.objects.create(
        organisation=order.organisation, order=order, amount=Decimal("5.00"), idempotency_key=f"refund-{order.pk}"
    )


def test_query_count_does_not_grow_with_tickets_scans_or_messages(client, member, make_order):
    client.force_login(member(Role.SUPPORT))
    client.get(reverse("my_events", kwargs={"org": "festival"}))  # the session notes the organisation once
    small = make_order(quantity=1)
    _busy(small, messages=1, scans_per_ticket=1)
    large = make_order(quantity=50, contact_email="big@example.com")
    _busy(large, messages=6, scans_per_ticket=3)

    small_count = _queries_for(client, small)
    large_count = _queries_for(client, large)

    assert small_count == large_count
    assert large_count <= 12


def test_an_event_without_its_own_country_costs_no_query_for_the_phone(client, member, make_order, event):
    """The contact card reads the number in the event's country, else the organisation's: the organisation the
    page already has, not a query of its own."""
    client.force_login(member(Role.SUPPORT))
    client.get(reverse("my_events", kwargs={"org": "festival"}))
    order = make_order(contact_phone="0151 23456789")
    event.country = "AT"
    event.save(update_fields=["country"])
    own_country = _queries_for(client, order)
    event.country = ""
    event.save(update_fields=["country"])
    assert _queries_for(client, order) == own_country
    assert "+49 1512 3456789" in client.get(order_url(order)).content.decode()  # read as German, the organisation's


def test_query_count_is_bounded_with_django_assert_num_queries(
    client, member, make_order, django_assert_max_num_queries
):
    client.force_login(member(Role.SUPPORT))
    order = make_order(quantity=50)
    _busy(order, messages=3, scans_per_ticket=2)
    url = order_url(order)
    client.get(url)  # the session notes the organisation once (organiser_portal.permissions.page_access)
    with django_assert_max_num_queries(12):
        client.get(url)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SUPPORT, Role.MANAGER, Role.OWNER])
def test_every_role_may_read_the_order(client, member, make_order, role):
    order = make_order()
    client.force_login(member(role))
    assert client.get(order_url(order)).status_code == 200


def test_viewer_sees_every_action_disabled_with_the_role_reason(client, member, make_order):
    order = make_order()
    client.force_login(member(Role.VIEWER))

    page = client.get(order_url(order)).content.decode()

    assert "Your role (Viewer) can&#x27;t resend tickets" in page
    assert "Your role (Viewer) can&#x27;t refund orders" in page
    assert 'aria-disabled="true"' in page


def test_support_sees_manager_actions_disabled_by_role(client, member, make_order):
    order = make_order()
    client.force_login(member(Role.SUPPORT))

    page = client.get(order_url(order)).content.decode()

    assert "Your role (Support agent) can&#x27;t refund orders" in page
    assert "Your role (Support agent) can&#x27;t cancel orders" in page
    assert "Your role (Support agent) can&#x27;t resend" not in page


def test_expired_order_is_readable_and_says_why_actions_are_off(client, member, make_order):
    order = make_order(paid=False)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.EXPIRED)
    client.force_login(member(Role.MANAGER))

    page = client.get(order_url(order)).content.decode()

    assert "Order expired: the purchase did not go through" in page
    assert "No tickets: they are issued when the order is paid." in page
