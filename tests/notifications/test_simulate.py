"""The embedded default's stand-in for an email service: events played through the real webhook."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.models import DeliveryEvent
from notifications.tasks import send_message

pytestmark = pytest.mark.django_db


def test_simulate_delivered_then_bounced(make_order, test_backend, settings, django_capture_on_commit_callbacks):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "demo-webhook:demo-secret"}
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    send_message.apply(args=(message.pk,))
    call_command("simulate_delivery", order.code, "delivered")
    order.refresh_from_db()
    assert order.email_status == "delivered"
    call_command("simulate_delivery", order.code, "bounced")
    order.refresh_from_db()
    assert order.email_status == "bounced"
    assert DeliveryEvent.objects.filter(message=message).count() == 2


def test_simulate_without_a_ticket_email(make_order):
    order = make_order(paid=False)
    with pytest.raises(CommandError, match="no ticket email"):
        call_command("simulate_delivery", order.code, "delivered")
