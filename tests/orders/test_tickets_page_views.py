"""The order page's side of the customer's tickets page: ⋯ Customer's tickets page (the link, New link), and the
resend dialog's "Send without the PDF" where the last tickets email was rejected or blocked."""

import uuid

import pytest
from django.urls import reverse

from notifications.models import OutgoingMessage
from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory
from tickets.pages import tickets_page_path

pytestmark = pytest.mark.django_db
Role = Membership.Role
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def own_rate_limits(settings):
    settings.RATE_LIMIT_NAMESPACE = uuid.uuid4().hex


def url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


@pytest.fixture
def agent_client(client, member):
    client.force_login(member(Role.SUPPORT))
    return client


def test_the_dialog_shows_the_current_link_and_a_new_link_voids_it(settings, client, agent_client, make_order):
    order = make_order()
    old_path = tickets_page_path(order)
    dialog = agent_client.get(url("order_tickets_page", order), headers=HTMX).content.decode()
    assert dialog.lstrip().startswith('<section class="card action-dialog"')
    assert f'value="{settings.PORTAL_URL}{old_path}"' in dialog and "Works until" in dialog

    for _ in range(2):  # a double submit of the same form makes one new link
        response = agent_client.post(url("order_tickets_page", order), {"replacing": "1"}, follow=True)
        assert response.status_code == 200
    assert "New tickets page link made" in response.content.decode()
    order.refresh_from_db()
    assert order.tickets_page_version == 2
    assert TimelineEntry.objects.filter(order=order, action="tickets_page.new_link").count() == 1
    client.logout()
    assert client.get(old_path).status_code == 410
    assert client.get(tickets_page_path(order)).status_code == 200


def test_the_menu_item_and_its_refusals(client, member, make_order):
    order = make_order()
    client.force_login(member(Role.SUPPORT))
    assert url("order_tickets_page", order) in client.get(url("order_detail", order)).content.decode()
    client.force_login(member(Role.VIEWER))
    assert client.get(url("order_tickets_page", order)).status_code == 403
    assert client.post(url("order_tickets_page", order), {"replacing": "1"}).status_code == 403

    client.force_login(member(Role.SUPPORT))
    unpaid = make_order(paid=False)
    page = client.get(url("order_tickets_page", unpaid)).content.decode()
    assert "Order is not paid yet" in page and "/my-tickets/" not in page
    client.post(url("order_tickets_page", unpaid), {"replacing": "1"})
    assert Order.objects.get(pk=unpaid.pk).tickets_page_version == 1


def _last_email(order: Order, status: str, reason: str) -> None:
    order.messages.filter(kind__in=OutgoingMessage.TICKET_KINDS).update(status=status, status_reason=reason)


def test_the_resend_dialog_offers_no_pdf_after_a_rejection(
    agent_client, make_order, django_capture_on_commit_callbacks
):
    order = make_order()
    _last_email(order, OutgoingMessage.Status.REJECTED, "550 5.7.1 Message rejected: attachment type not allowed")
    dialog = agent_client.get(url("order_resend", order), headers=HTMX).content.decode()
    assert "Send without the PDF (link to the tickets page)" in dialog
    assert "attachment type not allowed" in dialog
    assert 'value="pdf" id="attachment-pdf" checked' in dialog  # the event's setting stays the default

    form = {"send_to": "contact", "idempotency_key": "no-pdf", "attachment": "link"}
    with django_capture_on_commit_callbacks(execute=False):
        response = agent_client.post(url("order_resend", order), form, follow=True)
    assert "without the PDF (with the tickets page link)" in response.content.decode()
    message = order.messages.get(idempotency_key="no-pdf")
    assert message.pdf_attached is False and message.kind == OutgoingMessage.Kind.TICKETS_RESEND


@pytest.mark.parametrize(
    ("status", "reason", "offered"),
    [
        (OutgoingMessage.Status.BOUNCED, "552 5.7.0 Blocked: message content rejected by policy", True),
        (OutgoingMessage.Status.BOUNCED, "550 5.1.1 No such user", False),
        (OutgoingMessage.Status.DELIVERED, "", False),
        (OutgoingMessage.Status.DEFERRED, "452 mailbox full", False),
    ],
)
def test_the_choice_is_offered_only_for_a_refusal_of_the_content(agent_client, make_order, status, reason, offered):
    order = make_order()
    _last_email(order, status, reason)
    dialog = agent_client.get(url("order_resend", order)).content.decode()
    assert ("Send without the PDF" in dialog) is offered
    # Not offered: a choice posted anyway changes nothing, the event's setting decides.
    agent_client.post(url("order_resend", order), {"send_to": "contact", "idempotency_key": "k", "attachment": "link"})
    assert order.messages.get(idempotency_key="k").pdf_attached is (not offered)


def test_an_event_without_pdf_attachments_defaults_to_the_link(agent_client, organisation, make_order):
    event = EventFactory(organisation=organisation, attach_pdf_tickets=False)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    dialog = agent_client.get(url("order_resend", order)).content.decode()
    assert 'value="link" id="attachment-link" checked' in dialog and 'id="blocked-note"' not in dialog
    agent_client.post(url("order_resend", order), {"send_to": "contact", "idempotency_key": "k", "attachment": "pdf"})
    assert order.messages.get(idempotency_key="k").pdf_attached is True


def test_the_event_settings_form_has_the_switch(client, organisation, member, event):
    client.force_login(member(Role.MANAGER))
    page = client.get(reverse("event_settings", kwargs={"org": organisation.slug, "event_id": event.public_id}))
    html = page.content.decode()
    assert "Attach PDF tickets to the email" in html and 'name="attach_pdf_tickets"' in html
