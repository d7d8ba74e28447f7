"""Racing requests on real PostgreSQL connections, for the tests of locks and idempotency keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.db import connection, transaction

from orders.models import Order


def race(
    calls: Sequence[Callable[[], object]], hold: Callable[[], object], *, commit: bool = False
) -> list[BaseException | None]:
    """Run every call at once, each in its own thread (so its own database connection), and return what each
    raised, or None, in the calls' order.

    The threads start inside a transaction in which `hold` has run (taken the order's row lock, say, or written a
    row the calls' inserts collide with), and get half a second each to reach it and wait; only then does that
    transaction end, rolled back (committed with `commit`: what `hold` did got there first), so every call is
    inside the service, waiting, before any can go on. Each thread closes its connection when done; AssertionError
    when a call is still running 30 s later (a deadlock, or a lock never released).
    """
    outcomes: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            calls[index]()
        except BaseException as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with transaction.atomic():
        hold()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=0.5)  # they wait behind what `hold` did
        transaction.set_rollback(not commit)
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racing call still waits after 30 s"
    return outcomes


def order_locked(order_id: int) -> Callable[[], object]:
    """A `hold` for race(): the order's row lock, which every order service takes first."""
    return lambda: Order.objects.select_for_update().get(pk=order_id)
