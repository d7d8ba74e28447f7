"""One snapshot of the database for a page built from many statements.

PostgreSQL's default isolation (READ COMMITTED) gives each statement its own snapshot, so a page that reads the
order, then its refunds, then its tickets can show a refund that succeeded beside an order that hasn't yet been
told so: a task committed between the statements. A page polled "until nothing is in flight" then stops
polling and keeps the mixed picture for good (seen on the order page: "Item refunded" beside "Paid").
`consistent_read()` runs the block in one REPEATABLE READ, READ ONLY transaction, so every statement sees the
database as the first one did (PostgreSQL docs, "Transaction Isolation", 13.2.2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def consistent_read() -> Iterator[None]:
    """Run the block's queries in one snapshot, reading only.

    Inside a transaction already (a service, a test case) the block joins it: that transaction's isolation holds.
    On SQLite every transaction is serializable already; the block runs in one. A write inside the block raises
    (PostgreSQL: "cannot execute … in a read-only transaction").
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
