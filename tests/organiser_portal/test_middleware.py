"""A NUL byte anywhere a person or a machine can put one is a 400 that says so, never a 500 (attack review)."""

import pytest
from django.urls import reverse

from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client, member):
    client.force_login(member(Membership.Role.SUPPORT))
    return client


def test_nul_in_a_path_segment_is_a_400(agent, make_order):
    order = make_order()
    org = order.organisation.slug
    for path in (
        f"/o/{org}/orders/a%00/",
        f"/o/{org}/orders/a%00/tickets.pdf",
        f"/o/{org}/orders/{order.code}/tickets/a%00/ticket.pdf",
        f"/o/{org}/orders/{order.code}/tickets/a%00/scans/",
        f"/o/{org}/events/a%00/guests/",
    ):
        response = agent.get(path)
        assert response.status_code == 400, path
        assert "NUL byte" in response.content.decode(), path
    assert agent.get(reverse("order_detail", kwargs={"org": org, "code": order.code})).status_code == 200


def test_nul_in_the_search_box_and_the_poll_is_a_400(agent, make_order):
    order = make_order()
    org = order.organisation.slug
    assert agent.get(reverse("search", kwargs={"org": org}), {"q": "a\x00b"}).status_code == 400
    poll = reverse("orders_email_status", kwargs={"org": org})
    assert agent.get(poll, {"poll": "p1", "o": f"{order.code}\x00.x"}).status_code == 400
    assert agent.get(reverse("search", kwargs={"org": org}), {"q": "Müller"}).status_code == 200


def test_nul_in_a_form_field_is_a_400_and_changes_nothing(agent, make_order):
    order = make_order()
    url = reverse("order_edit_contact", kwargs={"org": order.organisation.slug, "code": order.code})
    entries = TimelineEntry.objects.filter(order=order).count()
    response = agent.post(url, {"contact_name": "Mal\x00lory", "contact_email": order.contact_email})
    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).contact_name == order.contact_name
    assert TimelineEntry.objects.filter(order=order).count() == entries


def test_a_machine_endpoint_answers_in_json(client):
    response = client.post("/api/v1/check-ins/?event=a%00", "{}", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "bad_request"
