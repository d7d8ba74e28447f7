"""The portal's side of a fault test that runs on a database of its own (tests/faults_support.PostgresServer):
run as a process with that database's DATABASE_URL, so the code under test talks only to it.

    python -m tests.faults_agent seed N            → N paid orders, each with its tickets email and a resend
                                                     queued; prints {"user": id, "orders": [id, …]} as JSON
    python -m tests.faults_agent resend USER KEY ORDER_ID…
                                                   → an agent resending each order's tickets (idempotency key
                                                     KEY-<order id>), trying again while the database is away;
                                                     one JSON line per try: {"order", "ok", "message" | "error"}
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
    import django

    django.setup()


def seed(count: int) -> dict:
    from django.contrib.auth.models import User

    from orders.services import (
        LineRequest,
        order_create,
        order_mark_confirming_payment,
        order_mark_paid,
        order_resend_tickets,
        order_start_payment,
    )
    from organiser_portal.models import Event, Membership, TicketType
    from tests.factories import EventFactory, MembershipFactory, OrganisationFactory, TicketTypeFactory

    organisation = OrganisationFactory.create(name="Festival GmbH", slug="festival")
    agent: User = MembershipFactory.create(organisation=organisation, role=Membership.Role.SUPPORT).user
    # The link to the tickets page instead of a PDF: the burst is about the outbox, not the PDF's speed.
    event: Event = EventFactory.create(organisation=organisation, name="Summer Festival", attach_pdf_tickets=False)
    ticket_type: TicketType = TicketTypeFactory.create(event=event)
    orders = []
    for n in range(count):
        order = order_create(
            event=event,
            lines=[LineRequest(ticket_type, 1)],
            contact_name=f"Guest {n}",
            contact_email=f"guest{n}@example.com",
        )
        order_start_payment(order=order, provider="test")
        order_mark_confirming_payment(order=order)
        order = order_mark_paid(order=order, processing_fee=Decimal("1.00"))  # queues the tickets email
        order_resend_tickets(actor=agent, order=order, idempotency_key=f"seed-{order.pk}")
        orders.append(order.pk)
    return {"user": agent.pk, "orders": orders}


def resend(user_id: int, key: str, order_ids: list[int]) -> None:
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError, InterfaceError, connection

    from orders.models import Order
    from orders.services import order_resend_tickets

    agent = None
    for order_id in order_ids:
        while True:
            try:
                agent = agent or get_user_model().objects.get(pk=user_id)
                order = Order.objects.select_related("event", "organisation").get(pk=order_id)
                message = order_resend_tickets(actor=agent, order=order, idempotency_key=f"{key}-{order_id}")
                print(json.dumps({"order": order_id, "ok": True, "message": message.pk}), flush=True)
                break
            except (DatabaseError, InterfaceError) as error:
                print(json.dumps({"order": order_id, "ok": False, "error": type(error).__name__}), flush=True)
                connection.close()  # as a request's end does: the next try opens a new connection
                time.sleep(0.1)
        time.sleep(0.2)  # an agent's pace: the resends go on while the database restarts


if __name__ == "__main__":
    _setup()
    command, *args = sys.argv[1:]
    if command == "seed":
        print(json.dumps(seed(int(args[0]))))
    elif command == "resend":
        resend(int(args[0]), args[1], [int(order_id) for order_id in args[2:]])
    else:
        raise SystemExit(f"unknown command {command!r}")
