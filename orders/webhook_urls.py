"""Webhooks of payment providers, mounted at /webhooks/ (organiser_portal.urls): outside any organisation."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
]
