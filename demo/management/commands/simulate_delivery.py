"""manage.py simulate_delivery ORDER_CODE delivered|bounced|deferred|opened|complained

Shows the whole email loop on the embedded default without an email-service account.
"""

from django.core.management.base import BaseCommand, CommandError

from demo.simulate import OUTCOMES, simulate_delivery_event
from notifications.models import OutgoingMessage


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
        status = simulate_delivery_event(message, outcome)
        if status != 200:
            raise CommandError(f"The webhook answered {status}: check ANYMAIL_WEBHOOK_SECRET.")
        message.refresh_from_db()
        message.order.refresh_from_db()
        self.stdout.write(
            f"{outcome} → message {message.pk} to {message.recipient} is now {message.get_status_display()}; "
            f"order {message.order.code} email status: {message.order.get_email_status_display()}"
        )
