"""The organisation's pages of the notifications app (under /o/<org>/): the suppression list."""

from django.urls import path

from . import views

urlpatterns = [
    path("suppressions/", views.suppressions, name="suppressions"),
    path("suppressions/<int:suppression_id>/remove/", views.suppression_remove_page, name="suppression_remove"),
]
