"""The SMS provider's status callbacks, mounted at /webhooks/sms/ (organiser_portal.urls): a machine endpoint."""

from django.urls import path

from . import sms_webhooks

urlpatterns = [
    path("status/", sms_webhooks.sms_status_webhook, name="sms_status_webhook"),
]
