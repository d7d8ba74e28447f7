"""The order page's advice about the ticket email: it fits the cause, and offers only what can be done."""

import html as html_lib
import re

import pytest
from django.urls import reverse

from notifications.models import MessageStatus
from orders.errors import OrderActionError
from orders.models import Order
from orders.services import order_resend_tickets
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HX-Request": "true"}
ADDRESS_WRONG = "probably wrong"


def url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


@pytest.fixture
def agent_client(client, member):
    client.force_login(member(Role.SUPPORT))
    return client


def reported(order: Order, status: str, reason: str = "") -> Order:
    """The latest ticket email as the notification services leave it after the email service's report."""
    message = order.messages.latest("created_at")
    message.status, message.status_reason = status, reason
    message.save()
    Order.objects.filter(pk=order.pk).update(email_status=status)
    return order


def advice(client, order: Order) -> str:
    """The advice banner's text (with its buttons' labels) as a person reads it; "" when there is none."""
    page = client.get(url("order_detail", order)).content.decode()
    start = page.find("delivery-advice")
    if start == -1:
        return ""
    start, depth, at = page.rindex("<div", 0, start), 0, page.rindex("<div", 0, start)
    for tag in re.finditer(r"<(/?)div\b", page[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            at = page.index(">", start + tag.end()) + 1
            break
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start:at]))
    return html_lib.unescape(re.sub(r" ([,.:])", r"\1", text)).strip()


def test_delivered_asks_the_guest_to_look_in_junk(agent_client, make_order):
    order = reported(make_order(), MessageStatus.DELIVERED)
    text = advice(agent_client, order)
    assert "junk or spam folder" in text and ADDRESS_WRONG not in text


def test_bounced_says_the_address_is_probably_wrong_and_offers_the_fix(agent_client, make_order):
    order = reported(make_order(contact_email="anna@gmial.com"), MessageStatus.BOUNCED, "550 5.1.1 no such user")
    text = advice(agent_client, order)
    assert ADDRESS_WRONG in text and "550 5.1.1 no such user" in text
    assert "Fix and resend to anna@gmail.com" in text and "Edit contact" in text
    assert "Send once to another address" in text


def test_a_bounce_of_a_send_to_another_address_leaves_the_contact_alone(agent_client, make_order):
    """A one-off send elsewhere bounced: the order's contact was never tried, so it isn't to be fixed."""
    order = make_order(contact_email="miguel@example.com")
    message = order.messages.latest("created_at")
    message.recipient = "bounce@sandbox.example"
    message.save()
    text = advice(agent_client, reported(order, MessageStatus.BOUNCED, "550 5.1.1 no such user"))
    assert "bounce@sandbox.example" in text and "send to another address, once" in text
    assert "miguel@example.com" in text and "is unchanged" in text
    assert "fix the contact" not in text and "Edit contact" not in text and "Fix and resend" not in text


def test_deferred_says_what_it_means_and_never_blames_the_address(agent_client, make_order):
    order = reported(make_order(), MessageStatus.DEFERRED, "452 4.2.2 mailbox full")
    text = advice(agent_client, order)
    assert "asked to try again later" in text and "452 4.2.2 mailbox full" in text
    assert "keeps trying by itself" in text and "stays Deferred for hours" in text
    assert ADDRESS_WRONG not in text and "Edit contact" not in text and "Fix and resend" not in text


def test_failed_names_our_side_and_the_reason_never_the_address(agent_client, make_order):
    order = reported(make_order(contact_email="anna@gmial.com"), MessageStatus.FAILED, "email service timed out")
    text = advice(agent_client, order)
    assert "problem on our side (email service timed out)" in text and "not the guest's address" in text
    assert "organisation's admin" in text and "Resend tickets" in text
    assert ADDRESS_WRONG not in text and "Fix and resend" not in text and "Did they mean" not in text


def test_failed_without_a_reason_still_says_our_side(agent_client, make_order):
    text = advice(agent_client, reported(make_order(), MessageStatus.FAILED))
    assert "problem on our side (the email service did not say why)" in text


def test_rejected_says_the_service_refused_the_address(agent_client, make_order):
    order = reported(make_order(), MessageStatus.REJECTED, "address is on the suppression list")
    text = advice(agent_client, order)
    assert "refused to send to anna@example.com" in text and "suppression list" in text
    assert "Edit contact" in text and "Send once to another address" in text


def test_complaint_says_what_it_means_and_resending_is_deliberate(agent_client, make_order):
    order = reported(make_order(), MessageStatus.COMPLAINED)
    text = advice(agent_client, order)
    assert "marked the tickets email as spam" in text and "only if the guest asks" in text
    assert ADDRESS_WRONG not in text

    dialog = agent_client.get(url("order_resend", order), headers=HTMX).content.decode()
    assert 'id="complaint-warning"' in dialog and "anna@example.com</strong> marked the tickets email as spam" in dialog
    token = "resend-after-complaint"
    refused = agent_client.post(url("order_resend", order), {"send_to": "contact", "idempotency_key": token})
    assert refused.status_code == 200 and "tick the box to resend to it anyway" in refused.content.decode()
    assert not order.messages.filter(kind="tickets_resend").exists()

    data = {"send_to": "contact", "idempotency_key": token, "confirm_complaint": "on"}
    assert agent_client.post(url("order_resend", order), data).status_code == 302
    assert order.messages.get(kind="tickets_resend").recipient == "anna@example.com"


def test_complaint_does_not_stand_in_the_way_of_another_address(agent_client, make_order):
    order = reported(make_order(), MessageStatus.COMPLAINED)
    data = {"send_to": "other", "other_email": "anna@work.example", "idempotency_key": "k"}
    assert agent_client.post(url("order_resend", order), data).status_code == 302
    # …but the address that complained, typed as the "other" one, still needs the box.
    data = {"send_to": "other", "other_email": "ANNA@example.com", "idempotency_key": "k2"}
    assert "tick the box" in agent_client.post(url("order_resend", order), data).content.decode()
    assert list(order.messages.filter(kind="tickets_resend").values_list("recipient", flat=True)) == [
        "anna@work.example"
    ]


@pytest.mark.parametrize("status", [MessageStatus.BOUNCED, MessageStatus.REJECTED])
def test_a_bounce_on_a_verified_account_offers_what_is_possible(agent_client, make_order, organisation, status):
    customer = CustomerFactory(organisation=organisation, email="anna@gmial.com", verified=True)
    order = reported(make_order(customer=customer, contact_email="anna@gmial.com"), status, "550 5.1.1")
    text = advice(agent_client, order)
    assert "account is verified" in text and "ask them to correct it in their account" in text
    assert "Send once to another address" in text
    assert "Fix and resend" not in text and "Edit contact" not in text and "fix the contact" not in text

    dialog = agent_client.get(url("order_resend", order) + "?send_to=other").content.decode()
    assert 'value="other" id="send-to-other" checked' in dialog
    data = {"send_to": "other", "other_email": "anna@gmail.com", "idempotency_key": "k"}
    assert agent_client.post(url("order_resend", order), data).status_code == 302
    assert order.messages.latest("created_at").recipient == "anna@gmail.com"
    # A send once to another address is not a changed contact: no "not sent to the new address" banner.
    assert "have not been sent to it yet" not in advice(agent_client, order)


def test_a_viewer_is_told_whom_to_ask(client, member, make_order):
    order = reported(make_order(), MessageStatus.BOUNCED)
    client.force_login(member(Role.VIEWER))
    text = advice(client, order)
    assert ADDRESS_WRONG in text and "Your role (Viewer) can't do this: ask a support agent." in text
    assert "Edit contact" not in text


def edit_contact(client, order: Order, email: str, *, resend: bool) -> None:
    data = {"contact_name": order.contact_name, "contact_email": email, "contact_phone": "", "idempotency_key": email}
    if resend:
        data["resend_tickets"] = "on"
    assert client.post(url("order_edit_contact", order), data).status_code == 302


def test_a_corrected_address_saved_without_resending_says_so_and_resends_in_one_click(agent_client, make_order):
    order = reported(make_order(contact_email="anna@gmial.com"), MessageStatus.BOUNCED, "550 5.1.1")
    edit_contact(agent_client, order, "anna@gmail.com", resend=False)
    text = advice(agent_client, order)
    assert "The contact email is now anna@gmail.com, but the tickets have not been sent to it yet" in text
    assert "the last tickets email went to anna@gmial.com" in text and ADDRESS_WRONG not in text
    assert "Send the tickets to anna@gmail.com" in text

    # The one click: the button's form, as the page renders it, posted as htmx posts it.
    page = agent_client.get(url("order_detail", order)).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" hx-post[^>]*>(.*?)</form>', page, re.S)
    assert form and form.group(1) == url("order_resend", order)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]+)"', form.group(2)))
    assert fields["send_to"] == "contact" and fields["idempotency_key"]
    response = agent_client.post(form.group(1), fields, headers=HTMX)
    assert response.status_code == 200 and "Tickets queued for anna@gmail.com." in response.content.decode()
    assert order.messages.latest("created_at").recipient == "anna@gmail.com"
    assert "have not been sent to it yet" not in advice(agent_client, order)


def test_saving_with_the_resend_box_ticked_needs_no_reminder(agent_client, make_order):
    order = make_order(contact_email="anna@gmial.com")
    edit_contact(agent_client, order, "anna@gmail.com", resend=True)
    assert "have not been sent to it yet" not in advice(agent_client, order)


def test_changing_only_the_name_needs_no_reminder(agent_client, make_order):
    order = make_order()
    data = {
        "contact_name": "Anna M.",
        "contact_email": order.contact_email,
        "contact_phone": "",
        "idempotency_key": "k",
    }
    agent_client.post(url("order_edit_contact", order), data)
    assert "have not been sent to it yet" not in advice(agent_client, order)


def test_send_held_on_an_order_with_nothing_held_is_refused_with_the_menus_reason(agent_client, make_order):
    order = make_order()  # paid, its tickets emailed at once
    response = agent_client.post(url("order_send_held", order), {"idempotency_key": "k"})
    html = response.content.decode()
    assert response.status_code == 200 and "No tickets are held for this order" in html
    assert "Tickets released" not in html and order.messages.count() == 1


def test_send_held_double_submit_releases_once_then_refuses_a_new_try(agent_client, make_order, organisation):
    event = EventFactory(organisation=organisation, send_tickets_automatically=False)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    for _ in range(2):
        response = agent_client.post(url("order_send_held", order), {"idempotency_key": "held"}, follow=True)
        assert "Tickets released and queued for anna@example.com." in response.content.decode()
    html = agent_client.post(url("order_send_held", order), {"idempotency_key": "again"}).content.decode()
    assert "No tickets are held for this order" in html and "Tickets released" not in html
    assert order.messages.count() == 1


def test_an_idempotency_key_reused_on_another_order_is_a_fresh_resend(agent_client, make_order):
    first, second = make_order(), make_order(contact_email="ben@example.com")
    for order in (first, second, second):
        response = agent_client.post(url("order_resend", order), {"send_to": "contact", "idempotency_key": "same"})
        assert response.status_code == 302
    assert [m.recipient for m in first.messages.filter(kind="tickets_resend")] == ["anna@example.com"]
    assert [m.recipient for m in second.messages.filter(kind="tickets_resend")] == ["ben@example.com"]


def test_the_service_itself_refuses_a_resend_to_an_address_that_complained_unless_confirmed(make_order, member):
    """The confirmation box is the form's; the rule is the service's, so no other caller skips it."""
    order = reported(make_order(contact_email="anna@example.com"), MessageStatus.COMPLAINED)
    agent = member(Role.SUPPORT)
    with pytest.raises(OrderActionError, match="marked the tickets email as spam"):
        order_resend_tickets(actor=agent, order=order, idempotency_key="k1")
    assert order.messages.count() == 1
    message = order_resend_tickets(actor=agent, order=order, idempotency_key="k2", complaint_confirmed=True)
    assert message.recipient == "anna@example.com" and order.messages.count() == 2


PDF_BLOCKED = (
    "ISP block: the receiving server blocked the message. — 550 5.7.1 Message blocked: PDF attachments from "
    "unknown senders are not accepted (sandbox)"
)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (MessageStatus.REJECTED, PDF_BLOCKED),  # the sandbox's pdf-blocked@sandbox.example, as Postmark reports it
        (MessageStatus.BOUNCED, "550 5.7.1 Attachment type not allowed"),
        (MessageStatus.FAILED, "Email service refused the message: attachment content blocked by policy"),
    ],
)
def test_a_refusal_for_the_content_offers_the_email_without_the_pdf(agent_client, make_order, status, reason):
    order = reported(make_order(), status, reason)
    text = advice(agent_client, order)
    assert "refused for its content" in text and "not for the address" in text and reason in text
    assert "suppression list" not in text and ADDRESS_WRONG not in text and "our side" not in text
    assert "Resend without the PDF…" in text and "Fix and resend" not in text and "Edit contact" not in text

    page = agent_client.get(url("order_detail", order)).content.decode()
    link = f"{url('order_resend', order)}?attachment=link"
    assert f'href="{link}"' in page
    dialog = agent_client.get(link, headers=HTMX).content.decode()
    assert 'id="attachment-choice"' in dialog
    assert re.search(r'value="link" id="attachment-link"\s*checked', dialog)
    assert not re.search(r'value="pdf" id="attachment-pdf"\s*checked', dialog)


def test_the_resend_dialog_without_the_link_keeps_the_pdf_chosen(agent_client, make_order):
    order = reported(make_order(), MessageStatus.REJECTED, PDF_BLOCKED)
    dialog = agent_client.get(url("order_resend", order), headers=HTMX).content.decode()
    assert re.search(r'value="pdf" id="attachment-pdf"\s*checked', dialog)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (MessageStatus.REJECTED, "Recipient is on the suppression list after a spam complaint"),
        (MessageStatus.REJECTED, "The address is inactive: hard bounced before"),
        (MessageStatus.BOUNCED, "550 5.1.1 mailbox does not exist"),
    ],
)
def test_a_refusal_of_the_address_still_says_the_address(agent_client, make_order, status, reason):
    text = advice(agent_client, reported(make_order(), status, reason))
    assert "refused for its content" not in text and "Resend without the PDF…" not in text
    assert "Edit contact" in text and "Send once to another address" in text


def test_a_refusal_of_the_sending_domain_names_our_side_not_the_address(agent_client, make_order):
    reason = "550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy"
    text = advice(agent_client, reported(make_order(), MessageStatus.REJECTED, reason))
    assert "sending domain" in text and "organisation's admin" in text and reason in text
    assert "suppression list" not in text and ADDRESS_WRONG not in text
    assert "Edit contact" not in text and "Resend without the PDF…" not in text


def test_a_content_refusal_of_a_send_to_another_address_leaves_the_contact_alone(agent_client, make_order):
    order = make_order(contact_email="miguel@example.com")
    message = order.messages.latest("created_at")
    message.recipient = "pdf-blocked@sandbox.example"
    message.save()
    text = advice(agent_client, reported(order, MessageStatus.REJECTED, PDF_BLOCKED))
    assert "pdf-blocked@sandbox.example" in text and "refused for its content" in text
    assert "miguel@example.com is unchanged" in text and "Resend without the PDF…" in text


def test_a_viewer_sees_the_content_advice_without_the_offer(client, member, make_order):
    client.force_login(member(Role.VIEWER))
    text = advice(client, reported(make_order(), MessageStatus.REJECTED, PDF_BLOCKED))
    assert "refused for its content" in text and "Resend without the PDF…" not in text and "ask a support agent" in text
