"""Is the portal able to work: the database, Redis and the background worker, for monitoring (`GET /health/`).

Each check answers within about a second, so a stuck dependency is reported, not waited for:

- database: `SELECT 1` under a 1 s statement timeout (PostgreSQL);
- redis: PING with 1 s socket timeouts ("not used" on the embedded default, where tasks run in process);
- worker: the age of the heartbeat the worker writes every HEARTBEAT_EVERY seconds when beat asks it to
  (`organiser_portal.tasks.heartbeat`); older than HEARTBEAT_STALE_AFTER means beat or the worker stopped,
  and with them the sending of emails;
- what the apps add with `check_register`: `outbox` (notifications/health.py), emails waiting for the task
  queue (Redis down or full) or for a worker.

The answer is JSON: `{"status": "ok" | "failing", "checks": {name: {"ok": bool, "detail": str}}}`, HTTP 200
when every check is ok and 503 otherwise. It names no host, password or version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

HEARTBEAT_KEY = "portal:worker-heartbeat"
HEARTBEAT_EVERY = 30.0  # seconds (settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"])
HEARTBEAT_STALE_AFTER = 180.0  # seconds: six missed beats


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def database_check() -> Check:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = 1000")
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer: the check reports it rather than raising
        return Check(False, f"unreachable ({type(exc).__name__})")
    return Check(True, "answers")


def redis_check() -> Check:
    if not settings.REDIS_URL:
        return Check(True, "not used (tasks run in process)")
    try:
        _redis().ping()
    except Exception as exc:  # as above
        return Check(False, f"unreachable ({type(exc).__name__})")
    return Check(True, "answers")


def heartbeat_record(now: float | None = None) -> None:
    """Write the worker's heartbeat (seconds since the epoch); a no-op without Redis."""
    if settings.REDIS_URL:
        _redis().set(HEARTBEAT_KEY, repr(now if now is not None else time.time()), ex=int(HEARTBEAT_STALE_AFTER * 10))


def worker_check(now: float | None = None) -> Check:
    if not settings.REDIS_URL:
        return Check(True, "in process")
    try:
        value = _redis().get(HEARTBEAT_KEY)
    except Exception as exc:  # as above
        return Check(False, f"heartbeat unreadable ({type(exc).__name__})")
    if value is None:
        return Check(False, "no heartbeat yet: are the worker and beat running?")
    age = (now if now is not None else time.time()) - float(value)
    if age > HEARTBEAT_STALE_AFTER:
        return Check(False, f"last heartbeat {age:.0f} s ago: the worker or beat has stopped")
    return Check(True, f"last heartbeat {max(age, 0):.0f} s ago")


# Checks the apps add (an app's AppConfig.ready calls check_register): the core imports no app.
EXTRA_CHECKS: dict[str, Callable[[], Check]] = {}


def check_register(name: str, check: Callable[[], Check]) -> None:
    """Add a check to the report under `name`; it must answer within about a second and never raise."""
    EXTRA_CHECKS[name] = check


def health_report() -> tuple[bool, dict]:
    """(all ok, the JSON body) as the module's docstring describes."""
    checks = {"database": database_check(), "redis": redis_check(), "worker": worker_check()}
    for name, check in EXTRA_CHECKS.items():
        try:
            checks[name] = check()
        except Exception as exc:  # a check that fails is the answer
            checks[name] = Check(False, f"check failed ({type(exc).__name__})")
    ok = all(check.ok for check in checks.values())
    body = {
        "status": "ok" if ok else "failing",
        "checks": {name: {"ok": check.ok, "detail": check.detail} for name, check in checks.items()},
    }
    return ok, body
