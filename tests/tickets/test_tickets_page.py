"""The customer's tickets page (tickets.pages, tickets.page_views): the signed link, its expiry and revocation
("New link"), tampering, the rate limit, and a page that shows only its own order's valid tickets."""

import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, OrganisationFactory, TicketTypeFactory
from tests.orders.refund_setup import paid_order
from tickets.links import LinkRefused
from tickets.models import Ticket
from tickets.pages import (
    SALT,
    order_for_tickets_page,
    tickets_page_new_link,
    tickets_page_path,
    tickets_page_token,
    tickets_page_url,
)

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture(autouse=True)
def own_rate_limits(settings):
    """Counters of this test alone (the limits are counted in the shared Redis)."""
    settings.RATE_LIMIT_NAMESPACE = uuid.uuid4().hex


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def test_the_url_is_absolute_on_the_portal_and_signs_the_order_and_its_version(settings, make_order):
    order = make_order(quantity=2)
    url = tickets_page_url(order)
    assert url.startswith(f"{settings.PORTAL_URL}/my-tickets/") and url.endswith("/")
    token = token_of(url)
    assert signing.Signer(salt=SALT).unsign_object(token) == [order.pk, 1]
    assert len(url) - len(settings.PORTAL_URL) < 80  # short enough for an SMS
    assert order_for_tickets_page(token) == order


def test_the_page_shows_the_event_and_each_valid_ticket_with_its_qr_and_id(client, make_order):
    order = make_order(quantity=3, contact_name="Jana Nováková")
    first, second, third = order.tickets.order_by("id")
    Ticket.objects.filter(pk=third.pk).update(status=Ticket.Status.INVALID, invalid_reason="cancelled")
    other = make_order(quantity=1, contact_email="someone@example.com")  # never on this page

    response = client.get(tickets_page_path(order))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.event.name in html and order.code in html and "Europe/Berlin" in html
    assert first.public_id in html and second.public_id in html
    assert third.public_id not in html  # cancelled: not shown as valid
    assert "1 ticket of this order is no longer valid" in html
    assert html.count('class="public-qr"') == 2 and html.count("Jana Nováková") == 2
    assert first.secret not in html  # only inside the QR image
    assert other.code not in html and other.tickets.get().public_id not in html
    assert response["Cache-Control"].startswith("max-age=0") and response["Referrer-Policy"] == "no-referrer"
    assert reverse("tickets_page_pdf", kwargs={"token": token_of(tickets_page_path(order))}) in html


def test_the_pdf_download_carries_the_valid_tickets(client, make_order):
    order = make_order(quantity=2)
    response = client.get(reverse("tickets_page_pdf", kwargs={"token": tickets_page_token(order)}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and f"tickets-{order.code}.pdf" in response["Content-Disposition"]


def test_a_cancelled_order_shows_no_ticket(client, make_order):
    order = make_order(quantity=2)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    order.tickets.update(status=Ticket.Status.INVALID, invalid_reason="cancelled")
    response = client.get(tickets_page_path(order))
    html = response.content.decode()
    assert response.status_code == 200 and "This order was cancelled" in html
    assert 'class="public-qr"' not in html
    pdf = client.get(reverse("tickets_page_pdf", kwargs={"token": tickets_page_token(order)}))
    assert pdf.status_code == 404 and b"%PDF" not in pdf.content


def test_held_tickets_are_not_shown_before_they_are_released(client, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(tickets_held=True)
    html = client.get(tickets_page_path(order)).content.decode()
    assert "not released yet" in html and 'class="public-qr"' not in html


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "WzEsMV0:forged",
        signing.Signer(salt="another.salt").sign_object([1, 1]),
        signing.Signer(salt=SALT).sign_object({"order": 1}),
        signing.Signer(salt=SALT).sign_object([987654321, 1]),  # an order that doesn't exist
    ],
)
def test_a_tampered_or_foreign_token_answers_a_clear_404(client, token):
    response = client.get(reverse("tickets_page", kwargs={"token": token}))
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    with pytest.raises(LinkRefused) as refused:
        order_for_tickets_page(token)
    assert refused.value.reason == "tampered"


def test_changing_the_order_id_in_a_token_breaks_its_signature(client, make_order):
    mine, theirs = make_order(), make_order(contact_email="ben@example.com")
    signed = tickets_page_token(mine)
    payload, _, signature = signed.partition(":")
    forged = f"{signing.b64_encode(f'[{theirs.pk},1]'.encode()).decode()}:{signature}"
    assert forged != signed
    response = client.get(reverse("tickets_page", kwargs={"token": forged}))
    assert response.status_code == 404 and theirs.code not in response.content.decode()


def test_the_link_expires_days_after_the_event_ends(client, settings, organisation):
    settings.TICKETS_PAGE_DAYS_AFTER_EVENT = 3
    ended = EventFactory(
        organisation=organisation,
        starts_at=timezone.now() - timedelta(days=4, hours=5),
        ends_at=timezone.now() - timedelta(days=4),
    )
    order = paid_order(event=ended, ticket_type=TicketTypeFactory(event=ended))
    response = client.get(tickets_page_path(order))
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert order.tickets.get().public_id not in response.content.decode()

    settings.TICKETS_PAGE_DAYS_AFTER_EVENT = 5  # configurable: the same link works again until day 5
    assert client.get(tickets_page_path(order)).status_code == 200
    just_before, just_after = ended.ends_at + timedelta(days=5, seconds=-1), ended.ends_at + timedelta(days=5)
    assert order_for_tickets_page(tickets_page_token(order), now=just_before) == order
    with pytest.raises(LinkRefused, match="expired"):
        order_for_tickets_page(tickets_page_token(order), now=just_after)


def test_a_new_link_voids_the_old_one_and_is_on_the_timeline(client, make_order, member):
    order = make_order()
    old_path = tickets_page_path(order)
    agent = member(Role.SUPPORT)
    renewed = tickets_page_new_link(actor=agent, order=order)
    assert renewed.tickets_page_version == 2

    revoked = client.get(old_path)
    assert revoked.status_code == 410 and "no longer works" in revoked.content.decode()
    assert client.get(tickets_page_path(renewed)).status_code == 200
    entry = TimelineEntry.objects.get(order=order, action="tickets_page.new_link")
    assert entry.actor == agent


def test_a_viewer_cant_make_a_new_link_nor_another_organisation(make_order, member):
    order = make_order()
    with pytest.raises(PermissionDenied):
        tickets_page_new_link(actor=member(Role.VIEWER), order=order)
    stranger = MembershipFactory(organisation=OrganisationFactory(), role=Role.OWNER).user
    with pytest.raises(Http404):
        tickets_page_new_link(actor=stranger, order=order)
    assert Order.objects.get(pk=order.pk).tickets_page_version == 1
    assert not TimelineEntry.objects.filter(order=order, action="tickets_page.new_link").exists()


def test_every_view_is_rate_limited_per_client(client, settings, make_order):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tickets_page": "3/300"}
    order = make_order()
    path = tickets_page_path(order)
    pdf = reverse("tickets_page_pdf", kwargs={"token": tickets_page_token(order)})
    assert [client.get(url).status_code for url in (path, pdf, "/my-tickets/guessing/")] == [200, 200, 404]
    limited = client.get(path)
    assert limited.status_code == 429 and limited["Retry-After"] == "300"
    assert "Too many requests" in limited.content.decode() and order.code not in limited.content.decode()
    assert client.get(pdf).status_code == 429
    # Another client (another address) is counted on its own.
    assert client.get(path, REMOTE_ADDR="203.0.113.9").status_code == 200


def test_the_page_is_phone_sized(client, make_order):
    html = client.get(tickets_page_path(make_order())).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert 'width="296"' in html  # 8 px per module of the 37-module code: sharp for a scanner
