"""The guest tables' "Order email status" badges follow an in-flight email without a reload: one small request
per table, one query, answering only the badges that moved."""

import pytest
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HX-Request": "true"}


@pytest.fixture
def viewer_client(client, member):
    client.force_login(member(Role.VIEWER))
    return client


def poll_url(organisation, *pairs: str, poll: str = "guest-email-poll") -> str:
    query = "&".join([f"poll={poll}", *(f"o={pair}" for pair in pairs)])
    return f"{reverse('orders_email_status', kwargs={'org': organisation.slug})}?{query}"


def test_the_guest_table_polls_only_while_an_email_is_in_flight(viewer_client, make_order, event, organisation):
    queued = make_order()
    delivered = make_order(contact_email="ben@example.com")
    Order.objects.filter(pk=delivered.pk).update(email_status="delivered")
    guests = reverse("event_guests", kwargs={"org": organisation.slug, "event_id": event.public_id})
    html = viewer_client.get(guests).content.decode()
    assert f'id="email-status-{queued.code}"' in html
    assert f'hx-get="{poll_url(organisation, f"{queued.code}.queued")}"'.replace("&", "&amp;") in html

    Order.objects.filter(pk=queued.pk).update(email_status="delivered")
    html = viewer_client.get(guests).content.decode()
    assert 'id="guest-email-poll"' in html and "every 3s" not in html


def test_the_poll_answers_only_the_moved_badges_in_one_query(
    viewer_client, make_order, organisation, django_assert_max_num_queries
):
    first, second = make_order(), make_order(contact_email="ben@example.com")
    url = poll_url(organisation, f"{first.code}.queued", f"{second.code}.queued")
    with django_assert_max_num_queries(6) as queries:  # session, user, membership …, then the statuses at once
        response = viewer_client.get(url, headers=HTMX)
    assert response.status_code == 204
    assert sum("email_status" in q["sql"] for q in queries.captured_queries) == 1

    Order.objects.filter(pk=first.pk).update(email_status="sent")
    html = viewer_client.get(url, headers=HTMX).content.decode()
    assert f'<span id="email-status-{first.code}" hx-swap-oob="true">' in html and "Sent" in html
    assert f"email-status-{second.code}" not in html
    # The poller comes back with what the table now shows, still in flight.
    assert 'id="guest-email-poll" hidden hx-swap-oob="true"' in html
    assert f"o={first.code}.sent" in html and f"o={second.code}.queued" in html

    Order.objects.filter(pk__in=[first.pk, second.pk]).update(email_status="delivered")
    html = viewer_client.get(url, headers=HTMX).content.decode()
    assert html.count("Delivered") == 2 and "every 3s" not in html  # nothing left in flight: it stops


def test_the_poll_ignores_other_organisations_orders(client, make_order, organisation, other_organisation):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(email_status="bounced")
    client.force_login(MembershipFactory(organisation=other_organisation, role=Role.OWNER).user)
    response = client.get(poll_url(other_organisation, f"{order.code}.queued"), headers=HTMX)
    assert response.status_code == 204 and order.code not in response.content.decode()


def test_the_poll_id_must_be_a_plain_id(viewer_client, organisation):
    assert viewer_client.get(poll_url(organisation, poll='x" onload="alert(1)')).status_code == 400
