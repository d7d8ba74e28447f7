from django.urls import path

from . import api, attendee_views, page_views, views

_EVENT = "o/<slug:org>/events/<str:event_id>/"

urlpatterns = [
    # Door scanners report check-ins here with their device token.
    path("api/v1/check-ins/", api.check_in, name="checkin_api"),
    path("api/v1/openapi.json", api.openapi, name="scanner_openapi"),
    # The customer's attendee details page, from the emailed link (no login; tickets.links).
    path("attendees/<str:token>/", attendee_views.attendees_public, name="personalise_public"),
    # The customer's tickets page and its PDF, from a signed link (no login; tickets.pages), and the
    # organisation's "Find my tickets" form that emails those links (tickets.find_tickets).
    path("my-tickets/<str:token>/", page_views.tickets_page, name="tickets_page"),
    path("my-tickets/<str:token>/tickets.pdf", page_views.tickets_page_pdf, name="tickets_page_pdf"),
    path("o/<slug:org>/find-my-tickets/", page_views.find_my_tickets, name="find_my_tickets"),
    # An event's door pages (organisation-scoped like every page under /o/<org>/).
    path(f"{_EVENT}door/", views.event_door, name="event_door"),
    path(f"{_EVENT}door/areas/", views.door_area_post, name="door_area"),
    path(f"{_EVENT}door/areas/<int:area_id>/points/", views.door_point_post, name="door_point"),
    path(f"{_EVENT}door/devices/", views.door_device_post, name="door_device"),
    path(f"{_EVENT}door/devices/<int:device_id>/", views.door_device_change, name="door_device_change"),
    path(f"{_EVENT}scans/", views.event_scans, name="event_scans"),
]
