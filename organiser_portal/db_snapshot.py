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
    On SQLite every transaction is serializable already; the block runs in a DEFERRED one, whatever the
    connection's `transaction_mode`: under WAL it reads one snapshot and takes no lock, where the embedded
    default's IMMEDIATE would take the write lock for the page, waiting behind (and then failing with "database
    is locked") every task or webhook writing meanwhile. A write inside the block raises (PostgreSQL: "cannot
    execute … in a read-only transaction").
    """
    if connection.in_atomic_block:
        yield
        return
    with _deferred_on_sqlite(), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


@contextmanager
def _deferred_on_sqlite() -> Iterator[None]:
    """Begin the block's transaction as SQLite's DEFERRED (Django's sqlite backend begins `BEGIN
    <connection.transaction_mode>`, set from OPTIONS when it connects: so connect first, then lend the mode)."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    mode = connection.transaction_mode  # type: ignore[attr-defined]
    connection.transaction_mode = None  # type: ignore[attr-defined]
    try:
        yield
    finally:
        connection.transaction_mode = mode  # type: ignore[attr-defined]
