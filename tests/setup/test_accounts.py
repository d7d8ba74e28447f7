"""A member's login: the invitation link (valid, expired, used twice), password reset through the outbox
(never telling whether an address has a login), password change."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from notifications.models import OutgoingMessage
from notifications.sandbox import sandbox_report
from notifications.services import IncomingEvent, delivery_event_record
from notifications.tasks import send_message
from organiser_portal.models import Membership
from organiser_portal.tokens import invitation_tokens, member_link_parts, password_reset_tokens
from setup.services import member_invite, membership_remove
from tests.factories import MembershipFactory, OrganisationFactory

from .conftest import link_in

pytestmark = pytest.mark.django_db
Role = Membership.Role
User = get_user_model()
NEW_PASSWORD = "violet-harbour-92"


@pytest.fixture
def invited(organisation, owner, sent_emails, django_capture_on_commit_callbacks):
    """A member invited by email: their user, and the path of the link in the invitation."""
    with django_capture_on_commit_callbacks(execute=True):
        membership, _ = member_invite(
            actor=owner, organisation=organisation, email="nina@example.com", role=Role.SUPPORT
        )
    [email] = sent_emails
    return membership.user, link_in(email)


def set_password(client, link: str, password: str = NEW_PASSWORD):
    """Open the link (which moves the token into the session) and post the password form."""
    page = client.get(link, follow=True)
    assert page.status_code == 200 and page.context["validlink"], "the link should work"
    return client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_the_invitation_link_sets_the_password_and_logs_in(client, invited, organisation):
    user, link = invited
    page = client.get(link, follow=True)
    assert page.redirect_chain[-1][0].endswith("/set-password/")  # the token leaves the address bar
    assert b"nina@example.com" in page.content and b"Welcome: choose your password" in page.content
    response = set_password(client, link)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(reverse("dashboard")).url == reverse("my_events", kwargs={"org": organisation.slug})


def test_an_invitation_link_works_once(client, invited):
    _user, link = invited
    set_password(client, link)
    client.logout()
    page = client.get(link, follow=True)
    assert page.status_code == 200 and not page.context["validlink"]
    assert b"This invitation link doesn't work any more" in page.content


def test_an_expired_invitation_link_is_refused(client, invited):
    user, _ = invited
    expired_at = invitation_tokens._num_seconds(invitation_tokens._now()) - settings.INVITATION_TIMEOUT - 60
    token = invitation_tokens._make_token_with_timestamp(user, expired_at, invitation_tokens.secret)
    link = reverse(
        "invitation_accept", kwargs={"uidb64": member_link_parts(user, invitation_tokens)["uidb64"], "token": token}
    )
    page = client.get(link, follow=True)
    assert not page.context["validlink"]
    # A minute inside the timeout, the same kind of token works: it is the age that refuses it.
    fresh_at = expired_at + 120
    token = invitation_tokens._make_token_with_timestamp(user, fresh_at, invitation_tokens.secret)
    link = link.rsplit("/", 2)[0] + f"/{token}/"
    assert client.get(link, follow=True).context["validlink"]


def test_the_link_of_a_member_removed_before_they_came_is_dead(client, invited, organisation, owner):
    user, link = invited
    membership_remove(actor=owner, organisation=organisation, membership_id=user.memberships.get().pk)
    assert not client.get(link, follow=True).context["validlink"]


def test_a_password_reset_link_is_no_invitation_and_a_forged_one_fails(client, invited):
    user, _ = invited
    reset = member_link_parts(user, password_reset_tokens)
    assert not client.get(reverse("invitation_accept", kwargs=reset), follow=True).context["validlink"]
    forged = {**reset, "token": reset["token"][:-2] + "00"}
    assert not client.get(reverse("invitation_accept", kwargs=forged), follow=True).context["validlink"]


# --- Password reset ------------------------------------------------------------------------------------


def test_login_page_links_to_forgot_password(client):
    page = client.get(reverse("login"))
    assert b"Forgot your password?" in page.content and reverse("password_reset").encode() in page.content


def test_password_reset_goes_through_the_outbox_and_works_once(
    client, member, sent_emails, django_capture_on_commit_callbacks
):
    user = member(Role.SUPPORT, user__username="sam@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "SAM@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    message = OutgoingMessage.objects.get(kind="password_reset")
    assert (message.user, message.organisation, message.order, message.recipient, message.status) == (
        user,
        None,
        None,
        "sam@example.com",
        "sent",
    )
    [email] = sent_emails
    assert email.subject == "Reset your Organiser Portal password"
    link = link_in(email)
    assert link.startswith("/accounts/password-reset/")
    response = set_password(client, link)
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    logged_in = client.post(reverse("login"), {"username": "sam@example.com", "password": NEW_PASSWORD})
    assert logged_in.status_code == 302
    client.logout()
    assert not client.get(link, follow=True).context["validlink"]  # used once


def test_password_reset_answers_the_same_for_an_unknown_address(client, member, sent_emails):
    member(Role.SUPPORT, user__username="sam@example.com")
    known = client.post(reverse("password_reset"), {"email": "sam@example.com"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert OutgoingMessage.objects.filter(kind="password_reset").count() == 1
    done = client.get(known["Location"])
    assert b"If the address you entered belongs to a login" in done.content


def test_password_change_in_the_portal_layout(client, member):
    user = member(Role.VIEWER)
    client.force_login(user)
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and b"Change your password" in page.content and b"Organiser Portal" in page.content
    wrong = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and wrong.context["form"].errors
    response = client.post(
        reverse("password_change"), {"old_password": "pw", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_pending_member_gets_no_reset_email(client, invited):
    """Invited, no password yet: the invitation (which an owner can send again) is their way in."""
    client.post(reverse("password_reset"), {"email": "nina@example.com"})
    assert not OutgoingMessage.objects.filter(kind="password_reset").exists()


def test_account_emails_are_tracked_by_the_webhooks(invited, client):
    """A delivery report about an invitation moves its message like any other, without an order."""
    user, _ = invited
    message = OutgoingMessage.objects.get(user=user)
    stored = delivery_event_record(
        event=IncomingEvent(
            provider="postmark", event_type="delivered", occurred_at=None, portal_message_id=str(message.pk)
        )
    )
    message.refresh_from_db()
    assert stored and message.status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_an_invitation_is_written_and_reported_delivered(settings, tmp_path):
    """The sandbox email service writes the invitation to a file and reports it through the webhook, as for
    ticket emails: the message ends delivered without an order."""
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.ANYMAIL = {"WEBHOOK_SECRET": "demo-webhook:demo-secret"}
    organisation = OrganisationFactory()
    owner = MembershipFactory(organisation=organisation, role=Role.OWNER).user
    member_invite(actor=owner, organisation=organisation, email="ines@example.com", role=Role.VIEWER)
    message = OutgoingMessage.objects.get(kind="member_invitation")
    assert send_message.apply(args=(message.pk,)).get() == "sent"
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "ines@example.com" in written and "/accounts/invitation/" in written
    assert sandbox_report(message_id=message.pk) == [200]
    message.refresh_from_db()
    assert message.status == "delivered" and message.events.get().event_type == "delivered"
