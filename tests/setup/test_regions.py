"""Regions: create, rename, delete (refused while events use one), and what a member limited to a deleted one sees."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from organiser_portal.models import Membership, Region
from setup.errors import SetupError
from setup.models import AuditEntry
from setup.services import region_create, region_delete, region_rename
from tests.factories import EventFactory, MembershipFactory, RegionFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def test_create_rename_delete_with_audit(organisation, owner):
    region, created = region_create(actor=owner, organisation=organisation, name="  Hamburg   Nord ")
    assert created and region.name == "Hamburg Nord"
    again, created_again = region_create(actor=owner, organisation=organisation, name="hamburg nord")
    assert again == region and not created_again  # a double submit creates one
    region_rename(actor=owner, organisation=organisation, region_id=region.pk, name="Hamburg")
    region_rename(actor=owner, organisation=organisation, region_id=region.pk, name="Hamburg")  # unchanged
    region_delete(actor=owner, organisation=organisation, region_id=region.pk)
    assert not Region.objects.exists()
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "region.created",
        "region.renamed",
        "region.deleted",
    ]


def test_rename_to_another_regions_name_is_refused(organisation, owner):
    RegionFactory(organisation=organisation, name="Berlin")
    hamburg = RegionFactory(organisation=organisation, name="Hamburg")
    with pytest.raises(SetupError, match="There is a region called Berlin already"):
        region_rename(actor=owner, organisation=organisation, region_id=hamburg.pk, name="berlin")


def test_a_region_events_use_is_not_deleted(organisation, owner):
    region = RegionFactory(organisation=organisation, name="Hamburg")
    EventFactory(organisation=organisation, region=region)
    EventFactory(organisation=organisation, region=region)
    with pytest.raises(SetupError, match="Hamburg can't be deleted: 2 events belong to it"):
        region_delete(actor=owner, organisation=organisation, region_id=region.pk)
    assert Region.objects.filter(pk=region.pk).exists()


def test_only_owners_manage_regions_and_another_organisations_is_404(organisation, other_organisation, owner, manager):
    with pytest.raises(PermissionDenied, match=r"Your role \(Manager\) can't manage regions"):
        region_create(actor=manager, organisation=organisation, name="Hamburg")
    foreign = RegionFactory(organisation=other_organisation)
    with pytest.raises(Http404):
        region_delete(actor=owner, organisation=organisation, region_id=foreign.pk)
    with pytest.raises(Http404):
        region_rename(actor=owner, organisation=organisation, region_id=foreign.pk, name="Mine")
    assert Region.objects.filter(pk=foreign.pk).exists()


def test_a_member_whose_last_region_is_deleted_sees_no_event(client, organisation, owner):
    hamburg, berlin = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    EventFactory(organisation=organisation, region=berlin, name="Berlin Night")
    EventFactory(organisation=organisation, region=None, name="Everywhere Day")
    agent = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[hamburg]).user
    region_delete(actor=owner, organisation=organisation, region_id=hamburg.pk)
    client.force_login(agent)
    page = client.get(reverse("my_events", kwargs={"org": organisation.slug}))
    assert page.status_code == 200
    assert b"Berlin Night" not in page.content and b"Everywhere Day" not in page.content


def test_regions_page(client, organisation, owner, manager):
    client.force_login(owner)
    url = reverse("regions", kwargs={"org": organisation.slug})
    assert client.post(url, {"name": ""}).status_code == 400
    response = client.post(url, {"name": "Hamburg"})
    assert response.status_code == 302 and Region.objects.get().name == "Hamburg"
    region = Region.objects.get()
    EventFactory(organisation=organisation, region=region)
    delete_url = reverse("region_remove", kwargs={"org": organisation.slug, "region_id": region.pk})
    refused = client.post(delete_url)
    assert refused.status_code == 409 and b"Hamburg can&#x27;t be deleted: an event belongs to it" in refused.content
    rename = reverse("region_edit", kwargs={"org": organisation.slug, "region_id": region.pk})
    assert client.post(rename, {"name": "Hamburg Nord"}).status_code == 302
    client.force_login(manager)
    assert client.get(url).status_code == 403
