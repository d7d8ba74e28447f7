"""Under /o/<org>/: Settings (events, team, regions) and an event's Settings tab."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.settings_home, name="settings_home"),
    path("settings/events/", views.settings_events, name="settings_events"),
    path("settings/events/new/", views.event_new, name="event_new"),
    path("settings/team/", views.team, name="team"),
    path("settings/team/<int:membership_id>/", views.member_edit, name="member_edit"),
    path("settings/team/<int:membership_id>/resend/", views.member_resend, name="member_resend"),
    path("settings/team/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("settings/regions/", views.regions, name="regions"),
    path("settings/regions/<int:region_id>/", views.region_edit, name="region_edit"),
    path("settings/regions/<int:region_id>/delete/", views.region_remove, name="region_remove"),
    path("events/<str:event_id>/settings/", views.event_settings, name="event_settings"),
    path("events/<str:event_id>/settings/ticket-types/new/", views.ticket_type_new, name="ticket_type_new"),
    path(
        "events/<str:event_id>/settings/ticket-types/<int:ticket_type_id>/",
        views.ticket_type_edit,
        name="ticket_type_edit",
    ),
    path(
        "events/<str:event_id>/settings/ticket-types/<int:ticket_type_id>/delete/",
        views.ticket_type_remove,
        name="ticket_type_remove",
    ),
]
