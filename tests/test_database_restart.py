"""The database restarts in the middle of a burst of emails: nothing lost, nothing doubled, nothing half-applied.

Everything runs on a PostgreSQL instance of the test's own (tests/faults_support.PostgresServer, migrated with
`manage.py migrate`) and a redis-server of its own: the portal's code runs in processes pointed at them — a Celery
worker as production runs it, and an agent resending orders' tickets (tests/faults_agent.py) — while the test
restarts the database under them (`pg_ctl stop -m fast`, 2 s away, start) and then checks the rows with psycopg.
The email service is the local imitation of Postmark's API; each copy it got is counted by `portal_message_id`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from tests.faults_support import ROOT, FakePostmark, PostgresServer, RedisServer, wait_for, worker_process

pytestmark = pytest.mark.faults

ORDERS = 40  # each: its tickets email and a resend queued before the worker starts, a resend by the agent later
DOWN_FOR = 2.0  # seconds the database is away


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.create()
        yield server
    finally:
        server.destroy()


def portal(database: PostgresServer, broker: RedisServer, *args: str, **kwargs) -> subprocess.Popen:
    """A process of the portal's code (manage.py, tests/faults_agent.py) on the test's own database and Redis."""
    env = {**os.environ, "DEBUG": "0", "DATABASE_URL": database.url, "REDIS_URL": broker.url(0)}
    env["EMAIL_WEBHOOKS"] = "postmark"  # as production mounts only its own (tests.env mounts every one)
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, **kwargs)


def finish(process: subprocess.Popen, timeout: float) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


def rows(database: PostgresServer, sql: str, params: tuple | None = None) -> list[tuple]:
    with psycopg.connect(database.conninfo) as db:
        return db.execute(sql, params).fetchall()


def unsettled(database: PostgresServer) -> int:
    try:
        return rows(database, "SELECT count(*) FROM notifications_outgoingmessage WHERE status <> 'sent'")[0][0]
    except psycopg.OperationalError:
        return -1


def test_the_database_restarting_mid_burst_loses_doubles_and_half_applies_nothing(own_postgres, redis_server, tmp_path):
    database, text = own_postgres, {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    finish(portal(database, redis_server, "manage.py", "migrate", "-v0", **text), timeout=120)
    seeded = json.loads(
        finish(portal(database, redis_server, "-m", "tests.faults_agent", "seed", str(ORDERS), **text), 120)
    )
    burst = rows(database, "SELECT count(*) FROM notifications_outgoingmessage WHERE status = 'queued'")[0][0]
    assert burst == 2 * ORDERS  # all waiting in the queue

    postmark = FakePostmark(hold=False).start()
    log, agent_log = tmp_path / "worker.log", tmp_path / "agent.jsonl"
    worker = worker_process(
        postmark.url,
        log,
        database_url=database.url,
        redis_url=redis_server.url(0),
        EMAIL_RETRY_DELAY="1",
        EMAIL_SERVICE_TIMEOUT="60",  # the service's answer is held below while the agent starts
    )
    agent = None
    try:
        wait_for(lambda: len(postmark.received) >= 10, timeout=60, what="the burst to start")
        postmark.release.clear()  # the worker waits for the service's answer until the agent is at work too
        args = ["-m", "tests.faults_agent", "resend", str(seeded["user"]), "restart", *map(str, seeded["orders"])]
        agent = portal(database, redis_server, *args, stdout=agent_log.open("w"), stderr=subprocess.PIPE, text=True)
        wait_for(lambda: agent_log.read_text().count('"ok": true') >= 3, timeout=30, what="the agent's first resends")
        postmark.release.set()
        left = unsettled(database)
        database.restart(down_for=DOWN_FOR)  # the worker is sending, the agent resending
        assert left >= 10, "the burst was over before the database went away"
        finish(agent, timeout=60)
        wait_for(lambda: unsettled(database) == 0, timeout=90, what=f"every message sent ({log})", every=0.5)
    finally:
        postmark.stop()
        worker.terminate()
        worker.wait(20)
        if agent is not None and agent.poll() is None:
            agent.kill()

    # The agent: each try failed cleanly or succeeded; trying again with the same key made one resend.
    tries = [json.loads(line) for line in agent_log.read_text().splitlines()]
    assert any(not attempt["ok"] for attempt in tries), "no resend met the database away"
    resent = {attempt["order"]: attempt["message"] for attempt in tries if attempt["ok"]}
    assert sorted(resent) == sorted(seeded["orders"])
    keyed = rows(database, "SELECT idempotency_key, order_id, id FROM notifications_outgoingmessage "
                 "WHERE idempotency_key LIKE 'restart-%'")  # fmt: skip
    assert sorted((key, order, message) for key, order, message in keyed) == sorted(
        (f"restart-{order}", order, message) for order, message in resent.items()
    )
    resend_entries = Counter(order for (order,) in rows(
        database, "SELECT order_id FROM orders_timelineentry WHERE action LIKE 'tickets.resent%'"
    ))  # fmt: skip
    assert resend_entries == Counter(dict.fromkeys(seeded["orders"], 2))  # the seed's and the agent's

    # Every message sent exactly once: one copy at the service, settled, once on its order's timeline.
    messages = rows(database, "SELECT id, status, attempts, provider_message_id FROM notifications_outgoingmessage")
    assert len(messages) == 3 * ORDERS
    copies = Counter(int(body["Metadata"]["portal_message_id"]) for body in postmark.received)
    assert copies == Counter({message_id: 1 for message_id, *_ in messages})
    assert {status for _, status, _, _ in messages} == {"sent"}
    assert all(attempts >= 1 and provider_id.startswith("pm-") for _, _, attempts, provider_id in messages)
    assert rows(database, "SELECT count(*) FROM orders_order WHERE email_status <> 'sent'") == [(0,)]
    sent_entries = rows(
        database,
        "SELECT (data->>'message')::int, count(*) FROM orders_timelineentry WHERE action = 'email.sent' GROUP BY 1",
    )
    assert dict(sent_entries) == {message_id: 1 for message_id, *_ in messages}
    doubled = rows(
        database,
        "SELECT order_id, action, data->>'message' FROM orders_timelineentry WHERE data ? 'message' "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    assert doubled == []
