"""PostgreSQL's statement and lock timeouts: set for every connection, lifted where long statements are legitimate.

Every connection starts with `statement_timeout` and `lock_timeout` from DB_STATEMENT_TIMEOUT and
DB_LOCK_TIMEOUT (settings.py), so a stuck row or runaway query fails one request or task instead of holding
every web process. Migrations (index builds, backfills over a million orders) run with both lifted:
`manage.py migrate` (organiser_portal/management/commands/migrate.py) wraps itself in `timeouts_lifted`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def db_timeout_options(*, statement: float, lock: float) -> str:
    """libpq `options` setting both timeouts, given in seconds (0: none)."""
    return f"-c statement_timeout={round(statement * 1000)} -c lock_timeout={round(lock * 1000)}"


@contextmanager
def timeouts_lifted(connection: Any) -> Iterator[None]:
    """Run the block with no statement or lock timeout on `connection` (PostgreSQL), then restore the
    connection's own (RESET goes back to what it was opened with)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0; SET lock_timeout = 0")
    try:
        yield
    finally:
        if connection.connection is not None and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout; RESET lock_timeout")
