"""Refusals and not-found answers are pages of the portal: the layout, the reason in words, a way back.
Django renders them through urls.py's handler403 / handler404 only with DEBUG off, as here."""

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from orders.menu import order_actions
from orders.selectors import order_detail
from organiser_portal.models import Membership
from organiser_portal.permissions import Perm, access_for
from tests.factories import EventFactory, MembershipFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role
LAYOUT = '<header class="portal-header'
LOG_OUT = ">Log out</button>"


def order_url(name: str, order, org: str | None = None) -> str:
    return reverse(name, kwargs={"org": org or order.organisation.slug, "code": order.code})


def test_the_tests_run_with_debug_off():
    # Django shows its technical pages instead of these with DEBUG on.
    assert settings.DEBUG is False


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("order_resend", "Your role (Viewer) can&#x27;t resend tickets"),
        ("order_edit_contact", "Your role (Viewer) can&#x27;t edit the contact"),
        ("order_send_held", "Your role (Viewer) can&#x27;t send held tickets"),
        ("order_download", "Your role (Viewer) can&#x27;t download tickets"),
    ],
)
def test_a_viewer_opening_an_action_gets_the_refusal_page(client, member, make_order, name, reason):
    order = make_order()
    messages_before = order.messages.count()
    client.force_login(member(Role.VIEWER))
    for response in (client.get(order_url(name, order)), client.post(order_url(name, order), {"send_to": "contact"})):
        assert response.status_code == 403
        assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
        html = response.content.decode()
        assert LAYOUT in html and LOG_OUT in html and "My events</a>" in html  # the header, with the org's links
        assert reason in html
        assert f'href="{order_url("order_detail", order)}">Back to the order</a>' in html
        assert "Forbidden" not in html
    assert order.messages.count() == messages_before  # the refused post queued nothing


def test_the_refusal_page_says_what_the_menu_says(client, member, make_order):
    order = make_order()
    viewer = member(Role.VIEWER)
    access = access_for(viewer, order.organisation)
    assert access is not None
    menu = {item.key: item.reason for item in order_actions(access, order_detail(access, order.code))}
    assert menu["resend"] == access.refusal(Perm.RESEND) == "Your role (Viewer) can't resend tickets"
    client.force_login(viewer)
    assert client.get(order_url("order_resend", order)).context["refusal"] == menu["resend"]


def test_an_htmx_request_gets_the_page_with_the_layout_too(client, member, make_order):
    order = make_order()
    client.force_login(member(Role.VIEWER))
    response = client.get(order_url("order_resend", order), headers={"HX-Request": "true"})
    assert response.status_code == 403 and LAYOUT in response.content.decode()


def test_an_unknown_order_is_a_not_found_page_with_the_layout(client, member, organisation):
    client.force_login(member(Role.SUPPORT))
    response = client.get(reverse("order_detail", kwargs={"org": organisation.slug, "code": "NOSUCH1"}))
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    html = response.content.decode()
    assert LAYOUT in html and LOG_OUT in html and 'role="search"' in html
    assert "No such order." in html
    assert f'href="{reverse("my_events", kwargs={"org": organisation.slug})}">Back to My events</a>' in html


def test_another_organisations_order_is_the_same_not_found_page(
    client, member, make_order, organisation, other_organisation
):
    event = EventFactory(organisation=other_organisation, name="Their Secret Gala")
    MembershipFactory(organisation=other_organisation, role=Role.OWNER)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event), contact_email="x@y.z")
    client.force_login(member(Role.OWNER))
    # Under their organisation's address, and under one's own: 404 pages, nothing of theirs on them.
    for url in (order_url("order_detail", order), order_url("order_detail", order, org=organisation.slug)):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404 and LAYOUT in html and LOG_OUT in html, url
        assert "Their Secret Gala" not in html and other_organisation.name not in html and "x@y.z" not in html
    assert "No such organisation." in client.get(order_url("order_detail", order)).content.decode()
    own_org = client.get(order_url("order_detail", order, org=organisation.slug)).content.decode()
    assert "No such order." in own_org and organisation.name in own_org  # one's own header


def test_an_address_that_is_no_page_is_a_not_found_page(client):
    response = client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404 and LAYOUT in html
    assert "There is no page at this address." in html
    assert f'href="{reverse("login")}">Log in</a>' in html


def test_the_server_error_page_is_static():
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and '<html lang="en">' in html and "{%" not in html
