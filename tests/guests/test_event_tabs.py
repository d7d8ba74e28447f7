"""An event's pages side by side: the tab bar above them, showing only pages that exist and the role may open."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from organiser_portal.models import Membership
from organiser_portal.permissions import Perm, access_for
from organiser_portal.templatetags.event_tabs import EventTab, event_tabs

pytestmark = pytest.mark.django_db
Role = Membership.Role


def test_the_guest_list_shows_its_tab_as_the_current_page(client, member, event):
    client.force_login(member(Role.VIEWER))
    text = client.get(reverse("event_guests", kwargs={"org": "festival", "event_id": event.public_id})).content.decode()
    guests = reverse("event_guests", kwargs={"org": "festival", "event_id": event.public_id})
    assert '<nav aria-label="Event pages">' in text
    assert f'<a class="nav-link active" href="{guests}" aria-current="page">Guests &amp; orders</a>' in text


def test_a_tab_shows_only_to_roles_that_may_open_it(organisation, member, event):
    tabs = (
        EventTab("guests", "Guests & orders", "event_guests", Perm.VIEW),
        EventTab("other", "Managers only", "event_guests", Perm.MANAGE_EVENTS),
    )
    viewer = access_for(member(Role.VIEWER), organisation)
    manager = access_for(member(Role.MANAGER), organisation)
    assert "Managers only" not in event_tabs(viewer, event, "guests", tabs)
    shown = event_tabs(manager, event, "other", tabs)
    assert "Managers only" in shown and shown.count('aria-current="page"') == 1
    assert 'class="nav-link active" href="/o/festival/events/' in shown.split("Guests &amp; orders")[1]


def test_the_tag_escapes_what_it_shows(organisation, member, event):
    tabs = (EventTab("x", "<b>bold</b>", "event_guests", Perm.VIEW),)
    access = access_for(member(Role.VIEWER), organisation)
    rendered = Template("{% load event_tabs %}{% event_tabs access event 'x' tabs %}").render(
        Context({"access": access, "event": event, "tabs": tabs})
    )
    assert "&lt;b&gt;bold&lt;/b&gt;" in rendered and "<b>" not in rendered
