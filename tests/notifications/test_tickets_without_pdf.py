"""The tickets email without the PDF: the event's "Attach PDF tickets to the email" switched off, or a resend
chosen without it. Sent through the outbox, it has no attachment and carries the tickets page link, which
opens that order's tickets."""

import re
import uuid

import pytest

from notifications.models import OutgoingMessage
from orders.models import TimelineEntry
from orders.services import order_resend_tickets
from orders.timeline import describe
from organiser_portal.models import Membership
from tests.factories import EventFactory, TicketTypeFactory
from tickets.pages import tickets_page_new_link

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture(autouse=True)
def portal(settings):
    settings.PORTAL_URL = "https://portal.test"
    settings.RATE_LIMIT_NAMESPACE = uuid.uuid4().hex


def page_link(email) -> str:
    match = re.search(r"https://portal\.test(/my-tickets/\S+/)", email.body)
    assert match, email.body
    return match.group(1)


def test_an_event_without_pdf_attachments_sends_the_link_instead(
    client, organisation, make_order, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    event = EventFactory(organisation=organisation, attach_pdf_tickets=False)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(event=event, ticket_type=TicketTypeFactory(event=event), quantity=2)
    message = order.messages.get()
    assert message.status == OutgoingMessage.Status.SENT and message.pdf_attached is False
    (email,) = test_backend
    assert email.attachments == []
    link = page_link(email)
    assert "attached" not in email.body and "Open your tickets" in email.body
    assert f"https://portal.test{link}" in email.alternatives[0][0]  # the HTML part's button
    for ticket in order.tickets.all():
        assert ticket.public_id in email.body
    page = client.get(link)
    assert page.status_code == 200
    assert all(t.public_id in page.content.decode() for t in order.tickets.all())


def test_a_resend_without_the_pdf_carries_the_current_link(
    client, make_order, member, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    agent = member(Role.SUPPORT)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()
    (with_pdf,) = test_backend
    assert len(with_pdf.attachments) == 1  # the default: the PDF (and the link, for a PDF that doesn't open)
    assert page_link(with_pdf)

    order = tickets_page_new_link(actor=agent, order=order)  # the link of the email is the current one
    with django_capture_on_commit_callbacks(execute=True):
        message = order_resend_tickets(actor=agent, order=order, pdf_attached=False, idempotency_key="k")
    assert message.pdf_attached is False and message.kind == OutgoingMessage.Kind.TICKETS_RESEND
    email = test_backend[-1]
    assert email.attachments == [] and client.get(page_link(email)).status_code == 200
    entry = TimelineEntry.objects.get(order=order, action__startswith="tickets.resent")
    assert entry.action == "tickets.resent_without_pdf" and entry.actor == agent
    assert describe(entry.action, entry.data) == (
        "Tickets resent to anna@example.com without the PDF: with the link to the tickets page"
    )

    with django_capture_on_commit_callbacks(execute=True):
        again = order_resend_tickets(actor=agent, order=order, pdf_attached=False, idempotency_key="k")
    assert again == message and len(test_backend) == 2  # a double submit sends once


def test_a_resend_with_the_pdf_on_an_event_without_attachments(
    organisation, make_order, member, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    event = EventFactory(organisation=organisation, attach_pdf_tickets=False)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
        message = order_resend_tickets(actor=member(Role.SUPPORT), order=order, pdf_attached=True)
    assert message.pdf_attached is True
    assert [len(email.attachments) for email in test_backend] == [0, 1]


def test_the_email_with_the_pdf_carries_the_tickets_page_link_too(
    client, make_order, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    """A customer whose PDF doesn't open (or whose mailbox strips it) still has a way to their tickets."""
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(quantity=2)
    (email,) = test_backend
    assert len(email.attachments) == 1 and "attached as one PDF" in email.body
    link = page_link(email)
    assert f"View your tickets online: https://portal.test{link}" in email.body
    html = email.alternatives[0][0]
    assert "attached as one PDF" in html and f'View your tickets online: <a href="https://portal.test{link}">' in html
    page = client.get(link)
    assert page.status_code == 200
    assert all(t.public_id in page.content.decode() for t in order.tickets.all())
