"""The data migrations that respell "canceled" as "cancelled" update the stored rows, and undo it when reversed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orders.models import TimelineEntry
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("tickets", "0002_scanner_device"), ("orders", "0005_order_customer")]
AFTER = [("tickets", "0003_invalid_reason_cancelled"), ("orders", "0006_timeline_cancelled")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def spellings(order) -> tuple[list[str], list[str]]:
    reasons = list(Ticket.objects.filter(order=order).order_by("pk").values_list("invalid_reason", flat=True))
    actions = list(
        TimelineEntry.objects.filter(order=order, action__contains="cancel").values_list("action", flat=True)
    )
    return reasons, sorted(actions)


def test_cancelled_is_respelt_in_stored_rows_both_ways(make_order):
    order = make_order(quantity=3)
    cancelled, transferred, valid = order.tickets.order_by("pk")
    try:
        migrate(BEFORE)
        Ticket.objects.filter(pk=cancelled.pk).update(status="invalid", invalid_reason="canceled")
        Ticket.objects.filter(pk=transferred.pk).update(status="invalid", invalid_reason="transferred")
        for action in ("ticket.canceled", "ticket.transfer_canceled", "order.cancelled"):
            TimelineEntry.objects.create(organisation_id=order.organisation_id, order=order, action=action)

        migrate(AFTER)
        assert spellings(order) == (
            ["cancelled", "transferred", ""],
            ["order.cancelled", "ticket.cancelled", "ticket.transfer_cancelled"],
        )

        migrate(BEFORE)
        assert spellings(order) == (
            ["canceled", "transferred", ""],
            ["order.cancelled", "ticket.canceled", "ticket.transfer_canceled"],
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
