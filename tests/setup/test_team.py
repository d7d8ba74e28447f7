"""Team: invitations, roles, region limits, removals, the last-owner rule (also under concurrency), the audit list."""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections, connection, transaction
from django.http import Http404

from notifications.models import OutgoingMessage
from organiser_portal.models import Membership
from setup.errors import SetupError
from setup.models import AuditEntry
from setup.services import member_invite, member_resend_invitation, membership_remove, membership_update
from tests.factories import MembershipFactory, OrganisationFactory, RegionFactory, UserFactory

from .conftest import link_in

pytestmark = pytest.mark.django_db
Role = Membership.Role
User = get_user_model()


def test_invite_adds_a_member_without_password_and_queues_the_invitation(
    organisation, owner, sent_emails, django_capture_on_commit_callbacks
):
    region = RegionFactory(organisation=organisation, name="Hamburg")
    with django_capture_on_commit_callbacks(execute=True):
        membership, created = member_invite(
            actor=owner,
            organisation=organisation,
            email="New.Agent@Example.com",
            role=Role.SUPPORT,
            region_ids=[region.pk],
        )
    assert created and membership.role == Role.SUPPORT and membership.region_limited
    assert list(membership.regions.all()) == [region]
    user = membership.user
    assert user.username == user.email == "new.agent@example.com" and not user.has_usable_password()
    message = OutgoingMessage.objects.get(user=user)
    assert (message.kind, message.organisation, message.order, message.created_by) == (
        "member_invitation",
        organisation,
        None,
        owner,
    )
    assert message.status == "sent"  # sent after commit, through the outbox's task
    [email] = sent_emails
    assert email.to == ["new.agent@example.com"] and "Festival GmbH" in email.subject
    assert "Olga Owner added you" in email.body and link_in(email).startswith("/accounts/invitation/")
    entry = AuditEntry.objects.get(organisation=organisation)
    assert (entry.action, entry.actor, entry.data["role"]) == ("member.invited", owner, "Support agent")


def test_inviting_someone_twice_invites_once(organisation, owner, sent_emails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first, created = member_invite(actor=owner, organisation=organisation, email="a@example.com", role=Role.VIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        again, created_again = member_invite(
            actor=owner, organisation=organisation, email="A@example.com", role=Role.OWNER
        )
    assert created and not created_again and again.pk == first.pk and again.role == Role.VIEWER
    assert len(sent_emails) == 1 and AuditEntry.objects.filter(action="member.invited").count() == 1


def test_a_member_of_another_organisation_is_added_and_told_to_log_in(
    organisation, owner, sent_emails, django_capture_on_commit_callbacks
):
    elsewhere = MembershipFactory(organisation=OrganisationFactory(), role=Role.OWNER, user__username="kim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        membership, created = member_invite(
            actor=owner, organisation=organisation, email="kim@example.com", role=Role.MANAGER
        )
    assert created and membership.user == elsewhere.user
    assert set(elsewhere.user.memberships.values_list("organisation", "role")) == {
        (elsewhere.organisation_id, Role.OWNER),
        (organisation.pk, Role.MANAGER),
    }
    [email] = sent_emails
    assert link_in(email) == "/accounts/login/" and "usual password" in email.body
    assert elsewhere.user.has_usable_password()  # untouched


def test_only_an_owner_invites_and_another_organisation_is_404(organisation, other_organisation, manager, owner):
    with pytest.raises(PermissionDenied, match=r"Your role \(Manager\) can't manage team members"):
        member_invite(actor=manager, organisation=organisation, email="x@example.com", role=Role.VIEWER)
    with pytest.raises(Http404):
        member_invite(actor=owner, organisation=other_organisation, email="x@example.com", role=Role.VIEWER)
    foreign_region = RegionFactory(organisation=other_organisation)
    with pytest.raises(Http404):
        member_invite(
            actor=owner,
            organisation=organisation,
            email="x@example.com",
            role=Role.VIEWER,
            region_ids=[foreign_region.pk],
        )
    assert not User.objects.filter(username="x@example.com").exists()


def test_role_and_regions_change_with_one_audit_entry_each(organisation, owner, member):
    agent = member(Role.SUPPORT, user__first_name="Sam", user__last_name="Agent")
    membership = agent.memberships.get()
    hamburg = RegionFactory(organisation=organisation, name="Hamburg")
    membership_update(
        actor=owner, organisation=organisation, membership_id=membership.pk, role=Role.MANAGER, region_ids=[hamburg.pk]
    )
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER and membership.region_limited and list(membership.regions.all()) == [hamburg]
    entries = {e.action: e.data for e in AuditEntry.objects.all()}
    assert entries["member.role_changed"] == {"member": "Sam Agent", "old": "Support agent", "new": "Manager"}
    assert entries["member.regions_changed"] == {"member": "Sam Agent", "old": "All regions", "new": "Hamburg"}
    # The same again (a double submit) changes and records nothing.
    membership_update(
        actor=owner, organisation=organisation, membership_id=membership.pk, role=Role.MANAGER, region_ids=[hamburg.pk]
    )
    assert AuditEntry.objects.count() == 2
    # Limited to no region: sees nothing; back to every region.
    membership_update(
        actor=owner, organisation=organisation, membership_id=membership.pk, role=Role.MANAGER, region_ids=[]
    )
    membership.refresh_from_db()
    assert membership.region_limited and not membership.regions.exists()
    membership_update(
        actor=owner, organisation=organisation, membership_id=membership.pk, role=Role.MANAGER, region_ids=None
    )
    membership.refresh_from_db()
    assert not membership.region_limited


def test_the_only_owner_can_be_neither_demoted_nor_removed(organisation, owner):
    membership = owner.memberships.get()
    with pytest.raises(SetupError, match="Olga Owner is the organisation's only owner and can't be made manager"):
        membership_update(
            actor=owner, organisation=organisation, membership_id=membership.pk, role=Role.MANAGER, region_ids=None
        )
    with pytest.raises(SetupError, match="only owner and can't be removed: make another member an owner first"):
        membership_remove(actor=owner, organisation=organisation, membership_id=membership.pk)
    membership.refresh_from_db()
    assert membership.role == Role.OWNER and not AuditEntry.objects.exists()


def test_with_two_owners_one_may_go(organisation, owner, member):
    second = member(Role.OWNER).memberships.get()
    membership_remove(actor=owner, organisation=organisation, membership_id=second.pk)
    assert not Membership.objects.filter(pk=second.pk).exists()
    assert AuditEntry.objects.get().action == "member.removed"
    with pytest.raises(Http404):  # a double submit: gone already
        membership_remove(actor=owner, organisation=organisation, membership_id=second.pk)


def test_removing_a_member_keeps_their_other_memberships(organisation, other_organisation, owner):
    membership = MembershipFactory(organisation=organisation, role=Role.SUPPORT)
    other = MembershipFactory(organisation=other_organisation, user=membership.user, role=Role.OWNER)
    membership_remove(actor=owner, organisation=organisation, membership_id=membership.pk)
    assert list(membership.user.memberships.all()) == [other]
    assert User.objects.filter(pk=membership.user_id).exists()


def test_another_organisations_member_is_404(organisation, other_organisation, owner):
    foreign = MembershipFactory(organisation=other_organisation, role=Role.SUPPORT)
    with pytest.raises(Http404):
        membership_remove(actor=owner, organisation=organisation, membership_id=foreign.pk)
    with pytest.raises(Http404):
        membership_update(
            actor=owner, organisation=organisation, membership_id=foreign.pk, role=Role.VIEWER, region_ids=None
        )
    assert Membership.objects.filter(pk=foreign.pk, role=Role.SUPPORT).exists()


def test_resending_an_invitation_once_per_form_and_never_after_a_password(
    organisation, owner, sent_emails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership, _ = member_invite(actor=owner, organisation=organisation, email="new@example.com", role=Role.VIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        first = member_resend_invitation(
            actor=owner, organisation=organisation, membership_id=membership.pk, idempotency_key="k1"
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = member_resend_invitation(
            actor=owner, organisation=organisation, membership_id=membership.pk, idempotency_key="k1"
        )
    assert first.pk == again.pk and len(sent_emails) == 2  # the invitation, and one resend
    membership.user.set_password("a-long-enough-password")
    membership.user.save()
    with pytest.raises(SetupError, match="has set a password already"):
        member_resend_invitation(
            actor=owner, organisation=organisation, membership_id=membership.pk, idempotency_key="k2"
        )


# --- The last-owner rule under two simultaneous requests --------------------------------------------------


def _in_thread(target, results, key):
    def run():
        try:
            target()
            results[key] = "done"
        except SetupError as error:
            results[key] = str(error)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["remove", "demote"])
def test_two_owners_taking_each_other_away_at_once_leave_one(action):
    """Owner A's request holds its locks (not yet committed) while owner B's asks to take A away: B waits
    for A's commit, then sees that A's change left B the only owner, and is refused. Without the row locks
    both would read two owners and leave none."""
    organisation = OrganisationFactory()
    a = MembershipFactory(organisation=organisation, role=Role.OWNER, user=UserFactory(first_name="Ada"))
    b = MembershipFactory(organisation=organisation, role=Role.OWNER, user=UserFactory(first_name="Bo"))

    def take_away(actor, target):
        if action == "remove":
            membership_remove(actor=actor, organisation=organisation, membership_id=target.pk)
        else:
            membership_update(
                actor=actor, organisation=organisation, membership_id=target.pk, role=Role.SUPPORT, region_ids=None
            )

    results: dict[str, str] = {}
    a_changed, a_may_commit = threading.Event(), threading.Event()

    def a_request():
        with transaction.atomic():  # a's request, still open after its change
            take_away(a.user, b)
            a_changed.set()
            a_may_commit.wait(10)

    thread_a = _in_thread(a_request, results, "a")
    assert a_changed.wait(10)
    thread_b = _in_thread(lambda: take_away(b.user, a), results, "b")
    time.sleep(0.5)
    assert thread_b.is_alive(), "b must wait for a's locks"
    a_may_commit.set()
    thread_a.join(10)
    thread_b.join(10)
    assert results["a"] == "done"
    assert "Ada is the organisation's only owner" in results["b"]
    assert list(Membership.objects.filter(organisation=organisation, role=Role.OWNER)) == [a]
