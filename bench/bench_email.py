"""Ticket emails per second through one Celery worker (solo pool) on Redis, with anymail's test backend.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/bench_email.py [--orders 100]

Creates a throw-away organisation with N paid one-ticket orders (each renders its own PDF: no cache
hits), lets one worker send them all, and checks every email: PDF attached, its text contains the
order's ticket IDs, provider message ID stored. The organisation is deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "bench-hook:bench-only-webhook-password")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["EMAIL_BACKEND"] = "anymail.backends.test.EmailBackend"


def main() -> int:
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from celery.contrib.testing.worker import start_worker
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone
    from pypdf import PdfReader

    from notifications.models import OutgoingMessage
    from orders.models import Order
    from orders.services import (
        LineRequest,
        order_create,
        order_mark_confirming_payment,
        order_mark_paid,
        order_start_payment,
    )
    from organiser_portal.celery import app
    from organiser_portal.models import Event, Organisation, TicketType
    from tickets import pdf

    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100)
    args = parser.parse_args()
    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL: this measures a real worker on a real broker.")

    call_command("migrate", verbosity=0)
    mail.outbox = []
    org = Organisation.objects.create(name="Email bench", slug=f"email-bench-{int(time.time())}")
    try:
        start = timezone.now() + timedelta(days=30)
        event = Event.objects.create(
            organisation=org, name="Bench Festival", starts_at=start, ends_at=start + timedelta(hours=5), venue="Hall 1"
        )
        tt = TicketType.objects.create(organisation=org, event=event, name="General admission", price=Decimal("50"))
        event.send_tickets_automatically = False  # create held, release all at once: the queue fills first
        event.save()
        orders = []
        for i in range(args.orders):
            order = order_create(
                event=event,
                contact_name=f"Buyer {i}",
                contact_email=f"buyer{i}@example.com",
                lines=[LineRequest(tt, 1)],
            )
            order_start_payment(order=order, provider="bench")
            order_mark_confirming_payment(order=order)
            orders.append(order_mark_paid(order=order))
        app.control.purge()
        pdf.warm_up()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            from django.db import transaction

            from notifications.services import message_queue

            t0 = time.perf_counter()
            with transaction.atomic():  # queue them all; they are published on commit
                for order in orders:
                    message_queue(order=order, kind=OutgoingMessage.Kind.TICKETS, recipient=order.contact_email)
            messages = OutgoingMessage.objects.filter(organisation=org)
            while messages.filter(status="sent").count() < args.orders:
                if time.perf_counter() - t0 > 600:
                    sys.exit("timed out")
                time.sleep(0.02)
            elapsed = time.perf_counter() - t0
        # Verify every email, outside the timing.
        by_recipient = {m.to[0]: m for m in mail.outbox}
        assert len(by_recipient) == args.orders, f"{len(mail.outbox)} emails for {args.orders} orders"
        for order in orders:
            email = by_recipient[order.contact_email]
            _name, content, _type = email.attachments[0]
            text = PdfReader(BytesIO(content)).pages[0].extract_text()
            for ticket_id in order.tickets.values_list("public_id", flat=True):
                assert ticket_id in text, f"{ticket_id} missing from the PDF of {order.code}"
        assert not messages.filter(provider_message_id="").exists()
        print(
            f"{args.orders} ticket emails (1 ticket, PDF rendered each) through one worker in {elapsed:.2f} s → {args.orders / elapsed:.1f} emails/s"
        )
        return 0
    finally:
        Order.objects.filter(organisation=org).delete()
        org.delete()


if __name__ == "__main__":
    raise SystemExit(main())
