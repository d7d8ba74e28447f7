"""The delivery actions in place (htmx: the form in the order page's dialog, the changed sections swapped back)
and as plain pages (a form post redirects to the order with a message); the order page's in-flight poll."""

import pytest
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HX-Request": "true"}
SECTIONS = ("order-email-status", "order-alerts", "actions", "order-flash", "contact", "messages", "timeline")


def url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


@pytest.fixture
def agent_client(client, member):
    client.force_login(member(Role.SUPPORT))
    return client


def oob_ids(html: str) -> set[str]:
    return {section for section in SECTIONS if f'id="{section}" hx-swap-oob="true"' in html}


@pytest.mark.parametrize(
    ("name", "section"),
    [("order_resend", "resend"), ("order_edit_contact", "edit-contact"), ("order_fix_and_resend", "fix-and-resend")],
)
def test_the_menu_opens_the_form_in_place_and_the_page_still_has_it(agent_client, make_order, name, section):
    order = make_order(quantity=2, contact_email="anna@gmial.com")
    partial = agent_client.get(url(name, order), headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<section class="card action-dialog"')
    assert "<html" not in partial and f'id="{section}"' in partial
    assert f'hx-post="{url(name, order)}" hx-target="#action-dialog-body"' in partial
    assert "anna@gmial.com" in partial and all(t.public_id in partial for t in order.tickets.all())
    page = agent_client.get(url(name, order)).content.decode()
    assert "<html" in page and f'id="{section}"' in page and "hx-post" not in page

    if name != "order_fix_and_resend":  # that one opens from the bounce banner (tests/e2e/test_fix_and_resend.py)
        detail = agent_client.get(url("order_detail", order)).content.decode()
        assert '<dialog id="action-dialog"' in detail
        assert f'hx-get="{url(name, order)}" hx-target="#action-dialog-body"' in detail


def test_htmx_resend_answers_with_the_changed_sections(agent_client, make_order):
    order = make_order()
    response = agent_client.post(
        url("order_resend", order), {"send_to": "contact", "idempotency_key": "k"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert oob_ids(html) == set(SECTIONS)
    assert "Tickets queued for anna@example.com." in html
    assert "Tickets resent to anna@example.com" in html  # the timeline section carries the new entry
    assert order.messages.filter(kind="tickets_resend").count() == 1
    # The flash went to the page, not to the session: the next page load shows no stale message.
    assert "Tickets queued for" not in agent_client.get(url("order_detail", order)).content.decode()


def test_plain_resend_redirects_back_with_the_message(agent_client, make_order):
    order = make_order()
    response = agent_client.post(
        url("order_resend", order), {"send_to": "contact", "idempotency_key": "k"}, follow=True
    )
    assert response.redirect_chain == [(url("order_detail", order), 302)]
    assert "Tickets queued for anna@example.com." in response.content.decode()


def test_htmx_edit_contact_with_a_bad_email_shows_the_error_in_the_form_and_changes_nothing(agent_client, make_order):
    order = make_order()
    data = {"contact_name": "Anna", "contact_email": "anna@", "contact_phone": "", "idempotency_key": "k"}
    response = agent_client.post(url("order_edit_contact", order), data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and oob_ids(html) == set()
    assert (
        'id="edit-contact"' in html
        and "“anna@” is not a valid email address. There must be something after the @-sign." in html
        and "is-invalid" in html
    )
    order.refresh_from_db()
    assert order.contact_email == "anna@example.com" and order.contact_name == "Anna Müller"
    assert not order.timeline.filter(action="order.contact_changed").exists()


def test_htmx_edit_contact_swaps_the_contact_card(agent_client, make_order):
    order = make_order()
    data = {
        "contact_name": "Anna M.",
        "contact_email": "anna.m@example.com",
        "contact_phone": "",
        "idempotency_key": "k",
    }
    html = agent_client.post(url("order_edit_contact", order), data, headers=HTMX).content.decode()
    assert oob_ids(html) == set(SECTIONS) and "Contact saved." in html
    contact = html[html.index('id="contact"') : html.index('id="messages"')]
    assert "anna.m@example.com" in contact and "Anna M." in contact


def test_htmx_send_held_refused_shows_why_in_the_form(agent_client, make_order):
    order = make_order(paid=False)
    response = agent_client.post(url("order_send_held", order), {"idempotency_key": "k"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="send-held"' in html and oob_ids(html) == set()
    assert 'role="alert"' in html and "paid" in html.lower()
    assert order.messages.count() == 0 and not order.timeline.filter(action="order.held_tickets_sent").exists()


def test_htmx_send_held_releases_and_updates_the_page(agent_client, make_order, organisation):
    event = EventFactory(organisation=organisation, send_tickets_automatically=False)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    html = agent_client.post(url("order_send_held", order), {"idempotency_key": "k"}, headers=HTMX).content.decode()
    assert oob_ids(html) == set(SECTIONS)
    assert "Tickets are held for review" not in html and "Queued" in html
    order.refresh_from_db()
    assert not order.tickets_held and order.messages.count() == 1


def test_the_in_flight_poll_is_one_query_until_the_status_moves(
    agent_client, make_order, django_assert_max_num_queries
):
    order = make_order()
    assert order.email_status == "queued"
    page = agent_client.get(url("order_detail", order)).content.decode()
    poll = f"{url('order_refresh', order)}?shown=queued"
    assert f'hx-get="{poll}" hx-trigger="every 3s"' in page
    with django_assert_max_num_queries(6) as queries:  # session, user, membership …, then the status alone
        response = agent_client.get(poll, headers=HTMX)
    assert sum("email_status" in q["sql"] for q in queries.captured_queries) == 1
    with django_assert_max_num_queries(6):
        response = agent_client.get(poll, headers=HTMX)
    assert response.status_code == 204 and response.content == b""

    Order.objects.filter(pk=order.pk).update(email_status="delivered")
    html = agent_client.get(poll, headers=HTMX).content.decode()
    assert oob_ids(html) == set(SECTIONS) - {"order-flash"} and "Delivered" in html  # an earlier flash stays
    assert "every 3s" not in html  # delivered is final: the poll stops


def test_the_poll_is_scoped_to_the_organisation(client, make_order, other_organisation):
    from tests.factories import MembershipFactory

    order = make_order()
    client.force_login(MembershipFactory(organisation=other_organisation, role=Role.OWNER).user)
    assert client.get(url("order_refresh", order) + "?shown=queued").status_code == 404
