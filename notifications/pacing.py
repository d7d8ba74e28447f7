"""Run a call later in this process: the paced sends of a bulk send when tasks run in process (no worker).

With a worker, a paced message's task is handed to the broker with a countdown. An eager task ignores its
countdown, and a timer thread per message would start thousands of threads for a large bulk send, so one
daemon thread keeps a heap of (due time, call) and runs each when it is due. A call that is never run (the
process ended first) leaves its message queued: the outbox sweeper hands it over again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.db import connections

log = logging.getLogger(__name__)

_heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
_ticket = itertools.count()
_wake = threading.Condition()
_thread: threading.Thread | None = None


def run_later(delay: float, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run `call(*args, **kwargs)` in `delay` seconds on the pacing thread (started on first use)."""
    global _thread
    with _wake:
        heapq.heappush(_heap, (time.monotonic() + max(delay, 0.0), next(_ticket), call, args, kwargs))
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="outbox-pacing", daemon=True)
            _thread.start()
        _wake.notify()


def pending() -> int:
    """How many calls wait on the pacing thread."""
    with _wake:
        return len(_heap)


def _loop() -> None:
    while True:
        with _wake:
            while not _heap or _heap[0][0] > time.monotonic():
                _wake.wait(timeout=(_heap[0][0] - time.monotonic()) if _heap else None)
            _due, _n, call, args, kwargs = heapq.heappop(_heap)
        try:
            call(*args, **kwargs)
        except Exception:
            log.exception("A paced call failed; the outbox sweeper hands its message over again")
        finally:
            connections.close_all()  # this thread's connections only


def queue_task(name: str, *args: Any) -> None:
    """Queue the Celery task `name` (by name: services don't import tasks) with `args`. With tasks in process it
    runs on the pacing thread, so the request that queued it answers at once. Raises what the broker raises."""
    signature = current_app.signature(name, args=args)
    if current_app.conf.task_always_eager:
        run_later(0, signature.apply_async, retry=False)
    else:
        signature.apply_async(retry=False)
