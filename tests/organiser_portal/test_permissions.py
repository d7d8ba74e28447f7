"""access_organisation / access_for: who gets which Access, and in how many queries."""

import pytest
from django.http import Http404

from organiser_portal.models import Membership
from organiser_portal.permissions import Perm, access_for, access_organisation
from tests.factories import MembershipFactory, RegionFactory

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
