"""Header → Region: the choice kept in the session, validated against the membership, shown in the header."""

import pytest
from django.urls import reverse

from organiser_portal.models import Membership
from organiser_portal.permissions import REGION_SESSION_KEY, access_for
from tests.factories import EventFactory, MembershipFactory, OrganisationFactory, RegionFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def regions(organisation):
    return RegionFactory(organisation=organisation, name="North"), RegionFactory(
        organisation=organisation, name="South"
    )


def choose_url(slug: str = "festival") -> str:
    return reverse("region_choose", kwargs={"org": slug})


def test_choose_region_narrows_and_never_widens(organisation, regions):
    north, south = regions
    user = MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north]).user
    limited = access_for(user, organisation)
    assert limited.choose_region(north.pk, "North").listed_region_ids == {north.pk}
    # South is outside the membership: ignored, the access stays the membership's.
    ignored = limited.choose_region(south.pk, "South")
    assert ignored.chosen_region_id is None and ignored.listed_region_ids == {north.pk}
    chosen = limited.choose_region(north.pk, "North")
    assert chosen.without_region_choice().listed_region_ids == {north.pk}
    assert chosen.allows_region(north.pk) and not chosen.allows_region(south.pk)


def test_an_unlimited_member_lists_the_chosen_region_but_may_still_open_the_others(organisation, member, regions):
    north, south = regions
    access = access_for(member(Role.SUPPORT), organisation).choose_region(north.pk, "North")
    assert access.listed_region_ids == {north.pk}
    assert access.lists_region(north.pk) and not access.lists_region(south.pk) and not access.lists_region(None)
    assert access.allows_region(south.pk) and access.allows_region(None)  # single pages still open


def test_choosing_a_region_keeps_it_for_the_session_and_returns_to_next(client, member, regions):
    north, _ = regions
    client.force_login(member(Role.SUPPORT))
    back = reverse("orders", kwargs={"org": "festival"}) + "?status=paid"
    response = client.post(choose_url(), {"region": north.pk, "next": back})
    assert response.status_code == 302 and response.url == back
    assert client.session[REGION_SESSION_KEY] == {"festival": [north.pk, "North"]}
    page = client.get(reverse("my_events", kwargs={"org": "festival"}))
    assert page.context["access"].chosen_region_id == north.pk
    assert "Region: North" in page.content.decode()
    # Back to every region.
    client.post(choose_url(), {"region": ""})
    assert client.session[REGION_SESSION_KEY] == {}
    assert "Region: All regions" in client.get(reverse("my_events", kwargs={"org": "festival"})).content.decode()


@pytest.mark.parametrize(
    "next_",
    [
        "orders",
        "\ufffd\ufffd",
        "x.html",
        "//evil.example/",
        "https://evil.example/",
        "/o/other-organisation/orders/",
        "/o/festival/../other-organisation/",
        "/o/festival/%2E%2E/%2e%2e/admin/",
        "/o/festival/\t../../admin/",
        "/admin/",
    ],
)
def test_a_next_that_is_no_path_on_this_site_returns_to_my_events(client, member, regions, next_):
    client.force_login(member(Role.SUPPORT))
    response = client.post(choose_url(), {"region": "", "next": next_})
    assert response.status_code == 302 and response.url == reverse("my_events", kwargs={"org": "festival"})


def test_the_chooser_page_lists_only_the_members_regions(client, organisation, regions):
    north, south = regions
    user = MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north, south]).user
    RegionFactory(organisation=OrganisationFactory(slug="elsewhere"), name="Far Away")
    client.force_login(user)
    page = client.get(choose_url(), {"next": "/o/festival/orders/"}).content.decode()
    assert "North" in page and "South" in page and "Far Away" not in page
    assert 'value="/o/festival/orders/"' in page


@pytest.mark.parametrize("bad", ["south", "other-org", "not-a-number", "999999999999999999999"])
def test_a_region_outside_the_membership_is_refused_and_nothing_changes(client, organisation, regions, bad):
    north, south = regions
    far = RegionFactory(organisation=OrganisationFactory(slug="elsewhere"))
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[north]).user
    client.force_login(user)
    value = {"south": south.pk, "other-org": far.pk}.get(bad, bad)
    response = client.post(choose_url(), {"region": value})
    assert response.status_code == 400
    assert "isn&#x27;t one you may choose" in response.content.decode()
    assert REGION_SESSION_KEY not in client.session


def test_a_foreign_next_url_goes_to_my_events(client, member, regions):
    client.force_login(member(Role.VIEWER))
    response = client.post(choose_url(), {"region": regions[0].pk, "next": "https://evil.example/"})
    assert response.url == reverse("my_events", kwargs={"org": "festival"})


def test_another_organisations_region_page_is_a_404(client, member, other_organisation, regions):
    client.force_login(member(Role.OWNER))
    assert client.get(choose_url("other")).status_code == 404
    assert client.post(choose_url("other"), {"region": ""}).status_code == 404


def test_the_header_offers_a_choice_only_where_there_is_one(client, organisation, member, regions):
    north, _ = regions
    client.force_login(member(Role.VIEWER))
    assert "Region: All regions" in client.get(reverse("my_events", kwargs={"org": "festival"})).content.decode()
    single = MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north]).user
    client.force_login(single)
    assert "Region:" not in client.get(reverse("my_events", kwargs={"org": "festival"})).content.decode()
    plain = OrganisationFactory(slug="plain")
    client.force_login(MembershipFactory(organisation=plain, role=Role.OWNER).user)
    assert "Region:" not in client.get(reverse("my_events", kwargs={"org": "plain"})).content.decode()


def test_a_member_of_several_organisations_returns_to_the_one_used_last(client, organisation, other_organisation):
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT).user
    MembershipFactory(organisation=other_organisation, role=Role.VIEWER, user=user)
    event = EventFactory(organisation=other_organisation)
    client.force_login(user)
    client.get(reverse("my_events", kwargs={"org": "festival"}))
    # Working in the other organisation (not through My events) makes it the last one used.
    client.get(reverse("event_guests", kwargs={"org": "other", "event_id": event.public_id}))
    assert client.get(reverse("dashboard")).url == reverse("my_events", kwargs={"org": "other"})
    client.get(reverse("orders", kwargs={"org": "festival"}))
    assert client.get(reverse("dashboard")).url == reverse("my_events", kwargs={"org": "festival"})


def test_a_region_choice_belongs_to_its_organisation(client, organisation, other_organisation, regions):
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT).user
    MembershipFactory(organisation=other_organisation, role=Role.VIEWER, user=user)
    client.force_login(user)
    client.post(choose_url(), {"region": regions[0].pk})
    other = client.get(reverse("my_events", kwargs={"org": "other"}))
    assert other.context["access"].chosen_region_id is None
