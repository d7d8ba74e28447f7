"""manage.py simulate_delivery ORDER_CODE delivered|bounced|deferred|opened|complained

Shows the whole email loop on the embedded default without an email-service account. The sandbox email
service (notifications/sandbox.py) already reports each message by itself; this plays any other report.
"""

from django.core.management.base import BaseCommand, CommandError

from notifications.models import OutgoingMessage
from notifications.sandbox import OUTCOMES, delivery_report_post


class Command(BaseCommand):
    help = "Play a delivery event (as Postmark would send it) for an order's latest ticket email, through the real webhook."

    def add_arguments(self, parser):
        parser.add_argument("order_code")
        parser.add_argument("outcome", choices=OUTCOMES)
        parser.add_argument("--org", help="Organisation slug, when the order code exists in several organisations.")

    def handle(self, *args, order_code: str, outcome: str, org: str | None = None, **options):
        messages = OutgoingMessage.objects.filter(
            order__code=order_code.upper(), kind__in=OutgoingMessage.TICKET_KINDS
        ).select_related("order")
        if org:
            messages = messages.filter(organisation__slug=org)
        message = messages.order_by("-created_at", "-id").first()
        if message is None:
            raise CommandError(f"Order {order_code} has no ticket email.")
        status = delivery_report_post(message, outcome)
        if status == 404:
            raise CommandError("The Postmark tracking webhook is not mounted: add postmark to EMAIL_WEBHOOKS.")
        if status != 200:
            raise CommandError(f"The webhook answered {status}: check ANYMAIL_WEBHOOK_SECRET.")
        message.refresh_from_db()
        order = message.order
        assert order is not None  # a ticket email is about an order
        order.refresh_from_db()
        self.stdout.write(
            f"{outcome} → message {message.pk} to {message.recipient} is now {message.get_status_display()}; "
            f"order {order.code} email status: {order.get_email_status_display()}"
        )
