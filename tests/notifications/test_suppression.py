"""The suppression list: filled by hard bounces and complaints where delivery events are recorded, never by a
soft bounce, a deferral, a rejection or a failure, nor by a bounce for what the email carried or for our sending
domain; taken off by a member with a reason, on the order's timeline."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from notifications.models import Suppression
from notifications.services import IncomingEvent, SuppressionError, delivery_event_record, suppression_remove
from organiser_portal.models import Membership

pytestmark = pytest.mark.django_db
Role = Membership.Role


def report(message, event_type: str, *, reason: str = "", event_id: str = "") -> None:
    at = timezone.now() + timedelta(seconds=1)
    delivery_event_record(
        event=IncomingEvent(
            "Postmark",
            event_type,
            at,
            message.recipient,
            reason,
            event_id or f"{event_type}-{message.pk}",
            portal_message_id=str(message.pk),
            raw={"id": event_id or event_type},
        )
    )


@pytest.mark.parametrize(("event_type", "reason"), [("bounced", "bounced"), ("complained", "complained")])
def test_a_hard_bounce_or_a_complaint_puts_the_address_on_the_list(make_order, event_type, reason):
    order = make_order(contact_email="Anna@Example.com")
    message = order.messages.get()
    report(message, event_type, reason="550 5.1.1 no such user")
    listed = Suppression.objects.get()
    assert (listed.organisation_id, listed.address, listed.reason) == (
        order.organisation_id,
        "Anna@Example.com",
        reason,
    )
    assert listed.source_message_id == message.pk and listed.active
    assert listed.detail == "550 5.1.1 no such user"


def test_the_same_address_is_listed_once_in_any_case(make_order):
    first = make_order(contact_email="anna@example.com").messages.get()
    second = make_order(contact_email="ANNA@example.com").messages.get()
    report(first, "bounced")
    report(second, "bounced")
    report(first, "complained")
    assert Suppression.objects.count() == 1


@pytest.mark.parametrize(
    "reason",
    [
        "550 5.7.1 Message rejected: attachment type not allowed",  # the PDF: the mailbox is fine
        "552 5.7.0 Our system detected an illegal attachment on your message",
        "550 5.7.26 Unauthenticated email from portal.example is not accepted due to domain's DMARC policy",
        "554 5.7.1 Service unavailable; sender domain has a poor reputation",
    ],
)
def test_a_bounce_for_the_content_or_the_sender_leaves_the_address_off_the_list(make_order, reason):
    message = make_order(contact_email="anna@example.com").messages.get()
    report(message, "bounced", reason=reason)
    message.refresh_from_db()
    assert message.status == "bounced" and message.status_reason == reason  # the order page still says why
    assert not Suppression.objects.exists()
    report(message, "complained", event_id="then-a-complaint")  # a complaint is always about the guest
    assert Suppression.objects.get().reason == "complained"


@pytest.mark.parametrize(
    "reason",
    [
        "550 5.1.1 user unknown; spam policy",
        "550 User unknown (spam policy)",  # no code: the words alone
        "550 5.1.1 <anna@example.com>: Recipient address rejected: User unknown; sender reputation checked",
        "550 5.1.1 The email account that you tried to reach does not exist. spf=pass dkim=pass",
        "550 5.2.1 Mailbox disabled for this recipient; blocked",
        "550 No such recipient here; content filter",
    ],
)
def test_a_bounce_for_a_mailbox_that_is_gone_lists_the_address_whatever_else_it_says(make_order, reason):
    message = make_order(contact_email="anna@example.com").messages.get()
    report(message, "bounced", reason=reason)
    assert Suppression.objects.get().address == "anna@example.com"


@pytest.mark.parametrize(
    "reason",
    [
        "553 5.1.8 <tickets@portal.example>: Sender address rejected: Domain not found",
        "550 5.1.0 Sender address rejected: User unknown in local recipient table",
        "554 5.7.1 Invalid address in the From header: DMARC policy of portal.example",  # not the guest's
    ],
)
def test_a_bounce_for_our_sender_address_leaves_the_guests_address_off_the_list(make_order, reason):
    report(make_order(contact_email="anna@example.com").messages.get(), "bounced", reason=reason)
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("event_type", ["deferred", "rejected", "failed", "delivered", "autoresponded", "opened"])
def test_soft_bounces_deferrals_rejections_and_failures_list_nothing(make_order, event_type):
    report(make_order().messages.get(), event_type, reason="452 4.2.2 mailbox full")
    assert not Suppression.objects.exists()


def test_another_organisations_list_is_its_own(make_order, other_organisation):
    report(make_order().messages.get(), "bounced")
    assert not Suppression.objects.filter(organisation=other_organisation).exists()


@pytest.fixture
def listed(make_order):
    order = make_order()
    report(order.messages.get(), "bounced", reason="no such user")
    return order, Suppression.objects.get()


def test_support_takes_an_address_off_the_list_with_a_reason_on_the_timeline(listed, member):
    order, suppression = listed
    agent = member(Role.SUPPORT)
    suppression_remove(
        actor=agent, organisation=order.organisation, suppression_id=suppression.pk, reason="Guest fixed the mailbox"
    )
    suppression.refresh_from_db()
    assert not suppression.active and suppression.removed_by == agent
    entry = order.timeline.get(action="email.suppression_removed")
    assert entry.actor == agent and entry.data["reason"] == "Guest fixed the mailbox"
    # Again: nothing changes, no second entry.
    suppression_remove(actor=agent, organisation=order.organisation, suppression_id=suppression.pk, reason="again")
    assert order.timeline.filter(action="email.suppression_removed").count() == 1
    # A new bounce lists it again, as a new row.
    report(order.messages.get(), "complained", event_id="later")
    assert Suppression.objects.filter(removed_at=None).count() == 1


def test_removal_needs_a_reason_and_the_permission(listed, member, other_organisation):
    order, suppression = listed
    with pytest.raises(SuppressionError):
        suppression_remove(
            actor=member(Role.SUPPORT), organisation=order.organisation, suppression_id=suppression.pk, reason="  "
        )
    with pytest.raises(PermissionDenied):
        suppression_remove(
            actor=member(Role.VIEWER), organisation=order.organisation, suppression_id=suppression.pk, reason="ok"
        )
    from tests.factories import MembershipFactory

    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        suppression_remove(actor=outsider, organisation=other_organisation, suppression_id=suppression.pk, reason="x")
    suppression.refresh_from_db()
    assert suppression.active and not order.timeline.filter(action="email.suppression_removed").exists()


def test_the_list_page_and_removal_from_an_order(client, listed, member):
    order, suppression = listed
    client.force_login(member(Role.SUPPORT))
    page = client.get(reverse("suppressions", kwargs={"org": order.organisation.slug}))
    assert suppression.address in page.content.decode() and "Remove…" in page.content.decode()
    url = reverse("suppression_remove", kwargs={"org": order.organisation.slug, "suppression_id": suppression.pk})
    assert client.post(f"{url}?order={order.code}", {"reason": ""}).status_code == 200  # the form again, with why
    response = client.post(f"{url}?order={order.code}", {"reason": "Guest says it works again"})
    assert response.status_code == 302
    assert response["Location"] == reverse("order_resend", kwargs={"org": order.organisation.slug, "code": order.code})
    assert order.timeline.filter(action="email.suppression_removed").exists()


def test_a_viewer_sees_the_list_without_remove(client, listed, member):
    order, _suppression = listed
    client.force_login(member(Role.VIEWER))
    page = client.get(reverse("suppressions", kwargs={"org": order.organisation.slug})).content.decode()
    assert "Remove…" not in page
