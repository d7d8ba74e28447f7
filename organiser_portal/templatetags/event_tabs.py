"""An event's pages side by side: `{% load event_tabs %}{% event_tabs access event "guests" %}` above each of them.

A page joins the tab bar by adding its tab to EVENT_TABS: the URL name (taking `org` and `event_id`) and the
permission a member needs to see the tab. Only pages that exist get a tab; a role that can't open one doesn't
see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from organiser_portal.models import Event
from organiser_portal.permissions import Access, Perm

register = template.Library()


@dataclass(frozen=True)
class EventTab:
    key: str  # the page names its own tab with it
    label: str
    url_name: str
    perm: Perm


# In the order they show.
EVENT_TABS: tuple[EventTab, ...] = (
    EventTab("guests", "Guests & orders", "event_guests", Perm.VIEW),
    EventTab("at_risk", "At risk", "event_at_risk", Perm.VIEW),
    EventTab("scans", "Scan log", "event_scans", Perm.VIEW),
    EventTab("door", "Door", "event_door", Perm.MANAGE_DOOR),
    EventTab("import", "Import orders", "event_import", Perm.IMPORT),
    EventTab("settings", "Settings", "event_settings", Perm.MANAGE_EVENTS),
)


@register.simple_tag
def event_tabs(access: Access, event: Event, current: str, tabs: tuple[EventTab, ...] = EVENT_TABS) -> SafeString:
    """The tab bar (a `nav` of links, the current page marked `aria-current="page"`) of the tabs `access` may open."""
    kwargs = {"org": access.organisation.slug, "event_id": event.public_id}
    items = [
        (
            "nav-link active" if tab.key == current else "nav-link",
            reverse(tab.url_name, kwargs=kwargs),
            mark_safe(' aria-current="page"') if tab.key == current else "",
            tab.label,
        )
        for tab in tabs
        if access.can(tab.perm)
    ]
    links = format_html_join("", '<li class="nav-item"><a class="{}" href="{}"{}>{}</a></li>', items)
    return format_html('<nav aria-label="Event pages"><ul class="nav nav-tabs event-tabs mb-3">{}</ul></nav>', links)
