"""The at-risk list of an event: every reason an order is at risk, what is not, the fixes, and My events' count."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from guests.at_risk import at_risk_counts, at_risk_orders
from notifications.models import OutgoingMessage
from orders.models import Order
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory, MembershipFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def with_email(order: Order, status: str, *, hours_ago: float = 0, reason: str = "") -> Order:
    """The order's tickets email in `status`, queued `hours_ago` (test data, as the webhooks would leave it)."""
    at = timezone.now() - timedelta(hours=hours_ago)
    OutgoingMessage.objects.filter(order=order).update(status=status, status_reason=reason, created_at=at, status_at=at)
    Order.objects.filter(pk=order.pk).update(email_status=status)
    return order


def codes(access, event, **kwargs) -> dict[str, list[str]]:
    return {row.order.code: row.reasons for row in at_risk_orders(access, event, **kwargs).rows}


@pytest.fixture
def access(member, organisation):
    return access_for(member(Role.VIEWER), organisation)


def test_every_reason_and_what_is_not_at_risk(access, make_order, event, settings):
    settings.AT_RISK_DEFERRED_HOURS = 6
    bounced = with_email(make_order(), "bounced", reason="550 no such user")
    rejected = with_email(make_order(), "rejected")
    failed = with_email(make_order(), "failed")
    complained = with_email(make_order(), "complained")
    deferred_long = with_email(make_order(), "deferred", hours_ago=7)
    missing = with_email(make_order(), "delivered")
    missing.tickets.update(personal_data_missing=True)
    both = with_email(make_order(), "bounced")
    both.tickets.update(personal_data_missing=True)
    # Not at risk:
    with_email(make_order(), "delivered")
    with_email(make_order(), "deferred", hours_ago=2)  # still on its way
    with_email(make_order(), "sent")
    cancelled = with_email(make_order(), "bounced")
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    refunded = with_email(make_order(), "bounced")
    Order.objects.filter(pk=refunded.pk).update(status=Order.Status.REFUNDED)
    make_order(paid=False)  # reserved: no tickets to fix
    used_up = make_order()
    used_up.tickets.update(personal_data_missing=True, status="invalid", invalid_reason="cancelled")
    held_event = EventFactory(organisation=event.organisation, send_tickets_automatically=False)
    make_order(event=held_event, ticket_type=TicketTypeFactory(event=held_event))  # held: waits on the guest list

    assert codes(access, event) == {
        bounced.code: ["bounced"],
        rejected.code: ["rejected"],
        failed.code: ["failed"],
        complained.code: ["complained"],
        deferred_long.code: ["deferred"],
        missing.code: ["data_missing"],
        both.code: ["bounced", "data_missing"],
    }
    assert codes(access, held_event) == {}
    listing = at_risk_orders(access, event, reason="data_missing")
    assert {r.order.code for r in listing.rows} == {missing.code, both.code}
    assert listing.counts == {
        "bounced": 2,
        "rejected": 1,
        "failed": 1,
        "complained": 1,
        "deferred": 1,
        "data_missing": 2,
    }
    row = next(r for r in at_risk_orders(access, event).rows if r.order.code == bounced.code)
    assert row.message.status_reason == "550 no such user"
    # Each reason's filter keeps the orders with that reason, and says how many.
    expected = {
        "bounced": {bounced.code, both.code},
        "rejected": {rejected.code},
        "failed": {failed.code},
        "complained": {complained.code},
        "deferred": {deferred_long.code},
        "data_missing": {missing.code, both.code},
    }
    for reason, wanted in expected.items():
        listing = at_risk_orders(access, event, reason=reason)
        assert ({r.order.code for r in listing.rows}, listing.total) == (wanted, len(wanted)), reason


def test_the_page_is_one_statement(access, make_order, event, django_assert_num_queries):
    """Counts, the page's orders and their latest tickets emails come back together."""
    with_email(make_order(), "bounced")
    with_email(make_order(), "deferred", hours_ago=9).tickets.update(personal_data_missing=True)
    with django_assert_num_queries(1):
        listing = at_risk_orders(access, event)
    assert [r.message.status for r in listing.rows] == ["deferred", "bounced"]
    assert listing.total == 2 and listing.rows[0].reasons == ["deferred", "data_missing"]


def test_the_tickets_email_index_covers_the_ticket_kinds():
    """The partial index the stale-deferral probe and the latest tickets email read (message_order_tickets)."""
    (index,) = [i for i in OutgoingMessage._meta.indexes if i.name == "message_order_tickets"]
    assert set(dict(index.condition.children)["kind__in"]) == OutgoingMessage.TICKET_KINDS


def test_a_newer_email_on_its_way_is_not_at_risk_yet(access, make_order, event, member):
    order = with_email(make_order(), "deferred", hours_ago=8)
    OutgoingMessage.objects.create(
        organisation=order.organisation,
        order=order,
        kind="tickets_resend",
        recipient="anna@example.com",
        status="deferred",
    )
    assert codes(access, event) == {}


def test_paging_and_the_counts_for_my_events(access, make_order, event):
    orders = [with_email(make_order(), "bounced") for _ in range(3)]
    orders[1].tickets.update(personal_data_missing=True)  # two reasons: still one order, on one page
    first = at_risk_orders(access, event, page_size=2)
    second = at_risk_orders(access, event, after=first.next_cursor, page_size=2)
    assert (first.total, len(first.rows), len(second.rows), second.next_cursor) == (3, 2, 1, None)
    assert [r.order.code for r in first.rows + second.rows] == [o.code for o in reversed(orders)]
    assert first.rows[1].reasons == ["bounced", "data_missing"]
    assert at_risk_counts([event]) == {event.pk: 3}


def test_guests_without_working_tickets_come_first_across_pages(access, make_order, event, settings):
    """A bounce among many missing details is on the first row, not the 32nd: the orders whose guests have no
    working tickets (email failed or long deferred, with their missing details too) by order date, then the orders
    that only miss attendee details; the pages walk that sort without losing or repeating an order."""
    settings.AT_RISK_DEFERRED_HOURS = 6
    sequence = []
    for kind in ("missing", "bounced", "missing", "deferred", "both", "missing", "missing", "complained", "missing"):
        order = make_order()
        if kind in ("missing", "both"):
            order.tickets.update(personal_data_missing=True)
        if kind in ("bounced", "both", "complained"):
            with_email(order, "complained" if kind == "complained" else "bounced")
        if kind == "deferred":
            with_email(order, "deferred", hours_ago=7)
        sequence.append((kind, order.code))
    newest_first = list(reversed(sequence))
    urgent = [code for kind, code in newest_first if kind != "missing"]
    details = [code for kind, code in newest_first if kind == "missing"]

    rows = at_risk_orders(access, event).rows
    assert [r.order.code for r in rows] == urgent + details
    assert [r.reasons for r in rows[:4]] == [["complained"], ["bounced", "data_missing"], ["deferred"], ["bounced"]]
    for page_size in (1, 2, 3, 4):
        seen, after = [], None
        while True:
            page = at_risk_orders(access, event, after=after, page_size=page_size)
            seen += [r.order.code for r in page.rows]
            if not (after := page.next_cursor):
                break
        assert seen == urgent + details, page_size
    # Filtered to missing details, the ones with no working tickets still lead.
    listing = at_risk_orders(access, event, reason="data_missing", page_size=1)
    second = at_risk_orders(access, event, reason="data_missing", after=listing.next_cursor, page_size=5)
    both = next(code for kind, code in sequence if kind == "both")
    assert [r.order.code for r in listing.rows + second.rows] == [both, *details]
    # A cursor from the details part of the list, with a filter that has no such part: an empty page, no error.
    last = second.rows[-1].order
    details_cursor = f"1_{last.created_at.isoformat()}~{last.pk}"
    assert at_risk_orders(access, event, reason="bounced", after=details_cursor).rows == []
    assert at_risk_orders(access, event, after="not-a-cursor").first_page  # anything else: the first page


def test_the_page_shows_each_fix(client, member, make_order, event):
    bounced = with_email(make_order(contact_phone="+49 170 1234567"), "bounced")
    complained = with_email(make_order(), "complained")
    missing = make_order()
    missing.tickets.update(personal_data_missing=True)
    client.force_login(member(Role.SUPPORT))
    html = client.get(
        reverse("event_at_risk", kwargs={"org": event.organisation.slug, "event_id": event.public_id})
    ).content.decode()
    org = event.organisation.slug
    assert reverse("order_fix_and_resend", kwargs={"org": org, "code": bounced.code}) in html
    sms = reverse("order_resend_sms", kwargs={"org": org, "code": bounced.code})
    assert f'href="{sms}">Send by SMS</a>' in html  # the SMS dialog, not the email resend
    assert reverse("order_resend", kwargs={"org": org, "code": complained.code}) in html
    assert reverse("order_personalise", kwargs={"org": org, "code": missing.code}) in html
    assert "3 orders at risk" in html and 'aria-current="page">At risk' in html


def test_a_viewer_reads_the_list_without_fixes_and_another_organisation_gets_404(
    client, member, make_order, event, other_organisation
):
    with_email(make_order(), "bounced")
    url = reverse("event_at_risk", kwargs={"org": event.organisation.slug, "event_id": event.public_id})
    client.force_login(member(Role.VIEWER))
    html = client.get(url).content.decode()
    assert "1 order at risk" in html and "Fix the address" not in html and "Ask support" in html
    client.force_login(MembershipFactory(organisation=other_organisation, role=Role.OWNER).user)
    other_url = reverse("event_at_risk", kwargs={"org": other_organisation.slug, "event_id": event.public_id})
    assert client.get(other_url).status_code == 404


def test_my_events_shows_the_count_and_the_days_left(client, member, make_order, event, organisation):
    with_email(make_order(), "bounced")
    past = EventFactory(organisation=organisation, starts_at=timezone.now() - timedelta(days=2))
    client.force_login(member(Role.VIEWER))
    response = client.get(reverse("my_events", kwargs={"org": organisation.slug}))
    html = response.content.decode()
    days = (event.starts_at - timezone.now()).days
    assert f"1 order at risk, {days} days left" in html
    assert reverse("event_at_risk", kwargs={"org": organisation.slug, "event_id": event.public_id}) in html
    shown = {e.pk: e for e in response.context["events"]}
    assert not hasattr(shown[past.pk], "at_risk_count")


def test_my_events_shows_the_count_of_an_event_on_now(client, member, make_order, organisation):
    """Started and not ended (a festival's second day): its guests still need their tickets at the door."""
    now = timezone.now()
    on_now = EventFactory(organisation=organisation, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=2))
    with_email(make_order(event=on_now, ticket_type=TicketTypeFactory(event=on_now)), "bounced")
    ended = EventFactory(organisation=organisation, starts_at=now - timedelta(days=3), ends_at=now - timedelta(hours=1))
    client.force_login(member(Role.VIEWER))
    response = client.get(reverse("my_events", kwargs={"org": organisation.slug}))
    html = response.content.decode()
    shown = {e.pk: e for e in response.context["events"]}
    assert (shown[on_now.pk].at_risk_count, shown[on_now.pk].time_left) == (1, "on now")
    assert 'aria-label="1 order at risk, on now: show them"' in html
    assert reverse("event_at_risk", kwargs={"org": organisation.slug, "event_id": on_now.public_id}) in html
    assert not hasattr(shown[ended.pk], "at_risk_count")  # over: nothing left to fix before the doors
    client.force_login(member(Role.SUPPORT))
    assert "· on now</span>" in at_risk_page(client, on_now)


def test_an_unknown_reason_is_refused_by_the_service_not_sent_to_the_database(member, event):
    access = access_for(member(Role.SUPPORT), event.organisation)

    with pytest.raises(ValueError, match="Unknown at-risk reason"):
        at_risk_orders(access, event, reason="no-such-reason")
    assert at_risk_orders(access, event, reason="bounced").total == 0  # the connection is still usable


def at_risk_page(client, event) -> str:
    url = reverse("event_at_risk", kwargs={"org": event.organisation.slug, "event_id": event.public_id})
    return client.get(url).content.decode()


def test_a_typo_bounce_shows_the_order_pages_suggestion_and_its_fix(client, member, make_order, event):
    order = with_email(make_order(contact_email="anna@gmial.com"), "bounced", reason="550 5.1.1 no such user")
    client.force_login(member(Role.SUPPORT))
    html = at_risk_page(client, event)
    fix = reverse("order_fix_and_resend", kwargs={"org": event.organisation.slug, "code": order.code})
    suggestion = 'Did they mean <strong class="suggested-email">anna@gmail.com</strong>?'
    next_query = "?next=" + quote(
        reverse("event_at_risk", kwargs={"org": event.organisation.slug, "event_id": event.public_id}), safe=""
    )
    assert suggestion in html and f'href="{fix}{next_query}">Fix and resend to anna@gmail.com…</a>' in html
    assert "Fix the address and resend</a>" not in html
    # The order page's bounce banner says the same words (one template), and the link's page fixes to it.
    order_page = client.get(reverse("order_detail", kwargs={"org": event.organisation.slug, "code": order.code}))
    assert suggestion in order_page.content.decode()
    assert "to <strong>anna@gmail.com</strong> and send the tickets there" in client.get(fix).content.decode()


def test_fix_and_resend_from_a_row_has_a_cancel_and_returns_to_the_list(client, member, make_order, event):
    """The row's "Fix and resend" page goes back where the agent came from (this list, its filter kept): Cancel
    before, and the list again with a message once done."""
    order = with_email(make_order(contact_email="anna@gmial.com"), "bounced")
    client.force_login(member(Role.SUPPORT))
    at_risk = reverse("event_at_risk", kwargs={"org": event.organisation.slug, "event_id": event.public_id})
    back = f"{at_risk}?reason=bounced"
    html = client.get(back).content.decode()
    fix = reverse("order_fix_and_resend", kwargs={"org": event.organisation.slug, "code": order.code})
    fix_link = f"{fix}?next={quote(back, safe='')}"
    assert f'href="{escape(fix_link)}"' in html

    page = client.get(fix_link).content.decode()
    assert f'<a class="btn btn-sm btn-link" href="{escape(back)}">Cancel</a>' in page
    assert f'<input type="hidden" name="next" value="{escape(back)}">' in page

    response = client.post(fix, {"contact_email": "anna@gmail.com", "idempotency_key": "fix-1", "next": back})
    assert response.status_code == 302 and response.url == back
    order.refresh_from_db()
    assert order.contact_email == "anna@gmail.com" and order.email_status == "queued"
    listed = client.get(response.url).content.decode()
    assert f"Order {order.code}: Email corrected; tickets queued for anna@gmail.com." in listed


@pytest.mark.parametrize(
    "next_",
    ["https://evil.example/o/", "//evil.example/o/", "/\\evil.example/", "javascript:alert(1)", "at-risk/", ""],
)
def test_fix_and_resend_ignores_a_next_that_is_not_a_path_on_this_site(client, member, make_order, event, next_):
    order = with_email(make_order(contact_email="anna@gmial.com"), "bounced")
    client.force_login(member(Role.SUPPORT))
    fix = reverse("order_fix_and_resend", kwargs={"org": event.organisation.slug, "code": order.code})
    order_page = reverse("order_detail", kwargs={"org": event.organisation.slug, "code": order.code})
    page = client.get(fix, {"next": next_}).content.decode()
    assert f'<a class="btn btn-sm btn-link" href="{order_page}">Cancel</a>' in page
    assert 'name="next"' not in page and "evil" not in page
    response = client.post(fix, {"contact_email": "anna@gmail.com", "idempotency_key": "fix-2", "next": next_})
    assert response.status_code == 302 and response.url == order_page
    order.refresh_from_db()
    assert order.contact_email == "anna@gmail.com"


@pytest.mark.parametrize(
    "next_",
    [
        "/o/other-organisation/orders/",  # another organisation's page
        "/accounts/password/change/",  # not a page of an organisation
        "/o/{org}/../other-organisation/orders/",  # a browser resolves the dots out of the organisation
        "/o/{org}/%2e%2e/%2E%2E/admin/",
        "/o/{org}/\t../../admin/",  # a browser drops the tab from the Cancel link
        "/o/{org}/orders/\nPassword expired: call +1 555 0100",
        "/o/{org}",
    ],
)
def test_fix_and_resend_returns_only_to_a_page_of_the_orders_organisation(client, member, make_order, event, next_):
    next_ = next_.format(org=event.organisation.slug)
    order = with_email(make_order(contact_email="anna@gmial.com"), "bounced")
    client.force_login(member(Role.SUPPORT))
    fix = reverse("order_fix_and_resend", kwargs={"org": event.organisation.slug, "code": order.code})
    order_page = reverse("order_detail", kwargs={"org": event.organisation.slug, "code": order.code})
    page = client.get(fix, {"next": next_}).content.decode()
    assert f'<a class="btn btn-sm btn-link" href="{order_page}">Cancel</a>' in page and 'name="next"' not in page
    response = client.post(fix, {"contact_email": "anna@gmail.com", "idempotency_key": "fix-3", "next": next_})
    assert response.status_code == 302 and response.url == order_page


def test_no_suggestion_without_a_typo_or_for_a_send_to_another_address(client, member, make_order, event, access):
    plain = with_email(make_order(), "bounced")
    other = with_email(make_order(contact_email="anna@gmial.com"), "bounced")
    # The bounce was a send once to another address: the order's contact is not in question (as on the order page).
    OutgoingMessage.objects.filter(order=other).update(recipient="friend@example.com")
    rejected = with_email(make_order(contact_email="bob@outlok.com"), "rejected")
    rows = {row.order.code: row.email_suggestion for row in at_risk_orders(access, event).rows}
    assert rows == {plain.code: None, other.code: None, rejected.code: "bob@outlook.com"}
    client.force_login(member(Role.SUPPORT))
    html = at_risk_page(client, event)
    assert html.count("Did they mean") == 1 and html.count("Fix the address and resend</a>") == 2


def test_the_suggestion_costs_the_page_no_query(client, member, make_order, event):
    client.force_login(member(Role.SUPPORT))
    with_email(make_order(), "bounced")
    at_risk_page(client, event)  # the session notes the organisation once
    with CaptureQueriesContext(connection) as plain:
        at_risk_page(client, event)
    with_email(make_order(contact_email="anna@gmial.com"), "bounced")
    with CaptureQueriesContext(connection) as typo:
        html = at_risk_page(client, event)
    assert "Did they mean" in html and len(typo) == len(plain)
