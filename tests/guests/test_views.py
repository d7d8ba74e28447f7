"""The event guest list and the customer page."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from guests.selectors import GuestFilters, event_guest_orders
from orders.models import Order
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import CustomerFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def guests_url(event) -> str:
    return reverse("event_guests", kwargs={"org": event.organisation.slug, "event_id": event.public_id})


def test_guest_list_shows_every_column(client, member, make_order, event):
    order = make_order(quantity=3)
    Order.objects.filter(pk=order.pk).update(email_status="bounced")
    client.force_login(member(Role.VIEWER))

    page = client.get(guests_url(event)).content.decode()

    for text in ("Anna Müller", "anna@example.com", order.code, ">3<", "Paid", "Bounced"):
        assert text in page, text


def test_guest_list_filters(client, member, make_order, event):
    bounced = make_order(contact_name="Bounced Guest", contact_email="b@example.com")
    Order.objects.filter(pk=bounced.pk).update(email_status="bounced")
    unpaid = make_order(paid=False, contact_name="Unpaid Guest", contact_email="u@example.com")
    vip = TicketTypeFactory(event=event, name="VIP")
    vip_order = make_order(ticket_type=vip, contact_name="Vip Guest", contact_email="v@example.com")
    held = make_order(contact_name="Held Guest", contact_email="h@example.com")
    Order.objects.filter(pk=held.pk).update(tickets_held=True)
    client.force_login(member(Role.SUPPORT))

    def names(**params) -> set[str]:
        page = client.get(guests_url(event), params).content.decode()
        return {n for n in ("Bounced Guest", "Unpaid Guest", "Vip Guest", "Held Guest") if n in page}

    assert names() == {"Bounced Guest", "Unpaid Guest", "Vip Guest", "Held Guest"}
    assert names(email_status="bounced") == {"Bounced Guest"}
    assert names(status="reserved") == {"Unpaid Guest"}
    assert names(ticket_type=vip.pk) == {"Vip Guest"}
    assert names(held="on") == {"Held Guest"}
    assert names(q="vip guest") == {"Vip Guest"}
    assert names(q=unpaid.code) == {"Unpaid Guest"}
    assert vip_order.code in client.get(guests_url(event), {"ticket_type": vip.pk}).content.decode()


def test_htmx_filter_answers_with_the_table_partial(client, member, make_order, event):
    make_order()
    client.force_login(member(Role.SUPPORT))
    response = client.get(
        guests_url(event), {"status": "paid"}, headers={"HX-Request": "true", "HX-Target": "guest-table"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="guest-table">') and "Anna Müller" in body


def test_empty_guest_list_says_no_order_means_no_purchase_only_after_a_whole_address(client, member, event):
    """The wording of each case: tests/guests/test_empty_results.py."""
    client.force_login(member(Role.VIEWER))
    assert (
        "No order means the purchase did not go through"
        not in client.get(guests_url(event), {"q": "nobody"}).content.decode()
    )
    page = client.get(guests_url(event), {"q": "nobody@example.com"}).content.decode()
    assert "No order means the purchase did not go through" in page


def test_keyset_pagination_walks_forward_and_back_without_gaps(member, make_order, event):
    start = timezone.now() - timedelta(days=1)
    orders = [make_order(contact_email=f"g{n}@example.com") for n in range(7)]
    for n, order in enumerate(orders):
        # two orders share each timestamp, so the id breaks ties
        Order.objects.filter(pk=order.pk).update(created_at=start + timedelta(minutes=n // 2))
    access = access_for(member(Role.VIEWER), event.organisation)
    filters = GuestFilters()

    seen = []
    page = event_guest_orders(access, event, filters, page_size=3)
    pages = [page]
    while page.next_cursor:
        page = event_guest_orders(access, event, filters, after=page.next_cursor, page_size=3)
        pages.append(page)
    for p in pages:
        seen += [o.pk for o in p.orders]
    expected = list(Order.objects.filter(event=event).order_by("-created_at", "-id").values_list("pk", flat=True))
    assert seen == expected and len(pages) == 3
    back = event_guest_orders(access, event, filters, before=pages[2].prev_cursor, page_size=3)
    assert [o.pk for o in back.orders] == [o.pk for o in pages[1].orders]
    oldest = event_guest_orders(access, event, GuestFilters(sort="oldest"), page_size=10)
    assert [o.pk for o in oldest.orders] == list(reversed(expected))


def test_count_is_capped_rather_than_counting_everything(member, make_order, event):
    for n in range(3):
        make_order(contact_email=f"c{n}@example.com")
    access = access_for(member(Role.VIEWER), event.organisation)
    page = event_guest_orders(access, event, GuestFilters(), count_cap=2)
    assert page.count_capped and page.shown_count == 2


def test_customer_page_lists_linked_and_unlinked_orders(client, member, make_order, organisation):
    customer = CustomerFactory(organisation=organisation, name="Anna Müller", email="Anna@Example.com", verified=True)
    linked = make_order(customer=customer)
    unlinked = make_order(contact_email="anna@example.com")
    stranger = make_order(contact_email="someone@example.com")
    client.force_login(member(Role.VIEWER))

    url = reverse("customer_detail", kwargs={"org": organisation.slug, "customer_id": customer.pk})
    page = client.get(url).content.decode()

    assert "Verified account" in page and "only they can change it" in page
    assert linked.code in page and unlinked.code in page and stranger.code not in page
    assert page.index(linked.code) < page.index("Not linked") < page.index(unlinked.code)


def test_my_events_links_to_the_guest_list(client, member, event):
    client.force_login(member(Role.VIEWER))
    page = client.get(reverse("my_events", kwargs={"org": event.organisation.slug})).content.decode()
    assert guests_url(event) in page


def test_guest_list_and_search_rows_escape_what_guests_typed(client, member, make_order, event, organisation):
    hostile = "<script>alert(1)</script>"
    order = make_order(contact_name=f"Eve {hostile}", contact_email="eve@example.com")
    CustomerFactory(organisation=organisation, name=f"Eve {hostile}", email="eve2@example.com")
    client.force_login(member(Role.VIEWER))
    search_url = reverse("search", kwargs={"org": organisation.slug}) + "?q=eve"
    for url in (guests_url(event), search_url):
        page = client.get(url).content.decode()
        assert hostile not in page and "Eve &lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert f'href="/o/{organisation.slug}/orders/{order.code}/"' in page, url


def test_the_guest_lists_next_and_sort_links_lead_to_other_rows(client, member, make_order, event):
    """The links the page itself renders (a newcomer found "Next →" pointing at "??after=…", page 1 again)."""
    start = timezone.now() - timedelta(days=1)
    for n in range(51):
        order = make_order(contact_email=f"p{n}@example.com")
        Order.objects.filter(pk=order.pk).update(created_at=start + timedelta(minutes=n))
    client.force_login(member(Role.VIEWER))
    first = client.get(guests_url(event)).content.decode()

    def link(page: str, text: str) -> str:
        href = re.search(rf'<a [^>]*href="([^"]*)"[^>]*>{text}</a>', page)
        assert href, text
        return html.unescape(href.group(1))

    next_href = link(first, "Next →")
    assert next_href.startswith("?") and not next_href.startswith("??")
    second = client.get(guests_url(event) + next_href).content.decode()
    assert "p0@example.com" in second and "p0@example.com" not in first  # the oldest order, on page 2
    oldest_first = client.get(guests_url(event) + link(first, "Created ↓")).content.decode()
    assert oldest_first.index("p0@example.com") < oldest_first.index("p1@example.com")


def test_a_cursor_offset_postgresql_refuses_still_pages(client, member, make_order, event):
    """+23:59 is a valid offset to Python but not to PostgreSQL: a 500 in an attack review."""
    make_order(contact_email="first@example.com")
    client.force_login(member(Role.VIEWER))
    for key in ("after", "before"):
        assert client.get(guests_url(event), {key: "2026-01-01T00:00:00+23:59~1"}).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "2026-01-01T00:00:00~1",  # naive
        "2026-01-01T00:00:00+00:00~99999999999999999999",  # beyond bigint
        "0001-01-01T00:00:00+05:00~1",  # before the first UTC time
        "garbage~x",
    ],
)
def test_a_guest_list_cursor_no_page_wrote_is_the_first_page(client, member, make_order, event, cursor):
    make_order(contact_email="first@example.com")
    client.force_login(member(Role.VIEWER))
    for key in ("after", "before"):
        response = client.get(guests_url(event), {key: cursor})
        assert response.status_code == 200, (key, cursor)
        assert "first@example.com" in response.content.decode()
