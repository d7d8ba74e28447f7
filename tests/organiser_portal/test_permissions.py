"""access_organisation / access_for: who gets which Access, and in how many queries."""

import re
from pathlib import Path

import pytest
from django.http import Http404

from organiser_portal.models import Event, Membership
from organiser_portal.permissions import ROLE_PERMS, Perm, access_for, access_organisation
from tests.factories import EventFactory, MembershipFactory, RegionFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def test_member_gets_their_role_in_one_query(organisation, member, django_assert_num_queries):
    user = member(Role.SUPPORT)
    with django_assert_num_queries(1):
        access = access_organisation(user, organisation.slug)
    assert access.organisation == organisation and access.role == Role.SUPPORT and access.region_ids is None
    assert access.can(Perm.RESEND) and not access.can(Perm.REFUND)


def test_region_limited_member_gets_their_regions(organisation, django_assert_num_queries):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    user = MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north, south]).user
    with django_assert_num_queries(2):
        access = access_organisation(user, organisation.slug)
    assert access.region_ids == frozenset({north.pk, south.pk})
    assert access_for(user, organisation).region_ids == frozenset({north.pk, south.pk})


def test_no_membership_unknown_slug_or_inactive_user_is_404(organisation, other_organisation, member):
    user = member(Role.OWNER)
    with pytest.raises(Http404):
        access_organisation(user, other_organisation.slug)
    with pytest.raises(Http404):
        access_organisation(user, "no-such-org")
    user.is_active = False
    with pytest.raises(Http404):
        access_organisation(user, organisation.slug)
    assert access_for(user, organisation) is None


def test_superuser_owns_every_organisation(superuser, other_organisation):
    access = access_organisation(superuser, other_organisation.slug)
    assert access.role == Role.OWNER and access.organisation == other_organisation and access.region_ids is None
    with pytest.raises(Http404):
        access_organisation(superuser, "no-such-org")


@pytest.mark.parametrize("how", ["deleted", "unticked"])
def test_a_member_limited_to_a_region_that_goes_sees_nothing_not_everything(organisation, how):
    """Their last region deleted or unticked, a region-limited member is limited to no region: no event of
    any region, nor one without a region, is listed or opens (it used to widen to every region)."""
    hamburg, berlin = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    in_berlin = EventFactory(organisation=organisation, region=berlin)
    EventFactory(organisation=organisation, region=None)
    membership = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[hamburg])
    if how == "deleted":
        hamburg.delete()
    else:
        membership.regions.clear()
    for access in (access_organisation(membership.user, organisation.slug), access_for(membership.user, organisation)):
        assert access is not None and access.region_ids == frozenset()
        assert not access.allows_region(berlin.pk) and not access.allows_region(None)
        assert not Event.objects.filter(access.event_filter()).exists()
        assert not access.region_choice_offered
    assert Event.objects.filter(pk=in_berlin.pk).exists()


def test_a_member_of_every_region_is_not_limited_by_an_empty_region_list(organisation, member):
    region = RegionFactory(organisation=organisation)
    EventFactory(organisation=organisation, region=region)
    access = access_organisation(member(Role.SUPPORT), organisation.slug)
    assert access.region_ids is None and access.allows_region(region.pk) and access.allows_region(None)


def test_the_readme_role_table_names_each_roles_permissions():
    """README's "Roles" table lists, per role, the permissions it adds to the role above it: as ROLE_PERMS says."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {
        cells[0]: set(re.findall(r"`([A-Z_]+)`", cells[1]))
        for line in readme.split("### Roles", 1)[1].split("\n\n")[2].splitlines()[2:]
        if (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    above: frozenset[Perm] = frozenset()
    for role in (Role.VIEWER, Role.SUPPORT, Role.MANAGER, Role.OWNER):
        assert rows[role] == {perm.name for perm in ROLE_PERMS[role] - above}, role
        above = ROLE_PERMS[role]
