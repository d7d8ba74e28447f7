"""The embedded default that `make run` starts (SQLite, Celery tasks in process, the sandbox email service)
runs the whole loop: demo data, a fix-and-resend that really sends, the sandbox's delivery report through
the real webhook a moment later, and one played by hand. Run in subprocesses, because the rest of the suite
is on PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIX_AND_RESEND = """
from django.contrib.auth import get_user_model
from orders.models import Order
from orders.services import order_change_contact
order = Order.objects.get(code="ANNA7MU")
agent = get_user_model().objects.get(username="support@demo.example")
order_change_contact(actor=agent, order=order, name=order.contact_name, email="anna.mueller@gmail.com",
                     phone=order.contact_phone, resend_tickets=True)
order.refresh_from_db()
print("STATUS", order.email_status)
"""

CHECK_IN = """
import json
from django.test import Client
from orders.models import Order
ticket = Order.objects.get(code="ANNA7MU").tickets.first()
for _ in range(2):
    response = Client().post("/api/v1/check-ins/", json.dumps({"code": ticket.secret, "event": ticket.event.public_id}),
                             content_type="application/json", HTTP_AUTHORIZATION="Bearer TOKEN", HTTP_HOST="127.0.0.1")
    answer = response.json()
    print("CHECK-IN", answer["result"], answer["reason"], answer["ticket"]["first_used_at"] is not None)
"""

EMAIL_STATUS = """
from orders.models import Order
print("STATUS", Order.objects.get(code="ANNA7MU").email_status)
"""

# A transaction that reads, then writes after another connection (the sandbox's delivery-report thread) wrote
# and committed in between: on a deferred SQLite transaction the write fails at once with "database is
# locked"; with IMMEDIATE transactions the other writer waits for it instead.
READ_THEN_WRITE = """
import threading, time
from django.db import connection, transaction
with connection.cursor() as c:
    c.execute("CREATE TABLE t (x integer)")
    c.execute("INSERT INTO t VALUES (0)")

def other_writer():
    with transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE t SET x = x + 1")

with transaction.atomic():
    with connection.cursor() as c:
        c.execute("SELECT x FROM t")
        writer = threading.Thread(target=other_writer)
        writer.start()
        time.sleep(0.5)
        c.execute("UPDATE t SET x = x + 10")
writer.join()
with connection.cursor() as c:
    c.execute("SELECT x FROM t")
    print("X", c.fetchone()[0])
"""

# The order page's snapshot (organiser_portal.db_snapshot) beside a writer mid-transaction (a task, the sandbox's
# delivery report): it reads at once, and the same value though the writer commits between its two reads.
SNAPSHOT_BESIDE_A_WRITER = """
import sqlite3, time
from django.db import connection
from organiser_portal.db_snapshot import consistent_read
with connection.cursor() as c:
    c.execute("CREATE TABLE t (x integer)")
    c.execute("INSERT INTO t VALUES (1)")
other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=20)
other.execute("BEGIN IMMEDIATE")
other.execute("UPDATE t SET x = 2")
started = time.monotonic()
with consistent_read(), connection.cursor() as c:
    c.execute("SELECT x FROM t")
    first = c.fetchone()[0]
    other.execute("COMMIT")
    c.execute("SELECT x FROM t")
    print("READ", first, c.fetchone()[0], "waited" if time.monotonic() - started > 5 else "at once")
"""


def _shell(env: dict[str, str], code: str) -> str:
    """What `manage.py shell -c code` printed in a subprocess with `env`; AssertionError when it failed."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_embedded_default_lets_a_read_then_write_transaction_wait_for_another_writer(tmp_path):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    env.pop("REDIS_URL", None)
    assert "X 11" in _shell(env, READ_THEN_WRITE)


def test_embedded_default_seeds_sends_and_plays_a_delivery(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "EMAIL_SANDBOX_DELAY": "0.5",
    }
    for name in ("REDIS_URL", "EMAIL_BACKEND", "EMAIL_WEBHOOKS", "EMAIL_SERVICE", "ANYMAIL_WEBHOOK_SECRET"):
        env.pop(name, None)

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--no-input", "-v0")
    manage("seed_demo")
    assert "STATUS sent" in manage("shell", "-c", FIX_AND_RESEND)
    mails = [p.read_text(errors="replace") for p in (tmp_path / "mail").iterdir()]
    assert any("To: anna.mueller@gmail.com" in m and "application/pdf" in m for m in mails)

    # The sandbox reported the delivery by itself, before the command ended.
    assert "STATUS delivered" in manage("shell", "-c", EMAIL_STATUS)
    manage("simulate_delivery", "ANNA7MU", "complained")
    assert "STATUS complained" in manage("shell", "-c", EMAIL_STATUS)

    # A door scanner checks Anna's ticket in through the API: admitted, then already used.
    token = manage("scanner_device_create", "--org", "nordlicht", "--name", "Gate A").strip().splitlines()[-1]
    checked_in = manage("shell", "-c", CHECK_IN.replace("TOKEN", token))
    assert "CHECK-IN admitted  True" in checked_in and "CHECK-IN denied already_used True" in checked_in


def test_make_run_on_another_port_puts_that_port_in_email_and_sms_links(tmp_path):
    """`make run PORT=8123`: the links the worker writes into emails and SMS (PORTAL_URL) reach that server."""
    env = {**os.environ, "DEBUG": "1", "PORT": "8123", "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    env.pop("PORTAL_URL", None)
    shown = _shell(env, "from django.conf import settings; print('URL', settings.PORTAL_URL)")
    assert "URL http://127.0.0.1:8123\n" in shown
    makefile = (ROOT / "Makefile").read_text()
    assert "runserver 127.0.0.1:$(PORT)" in makefile and "PORT=$(PORT)" in makefile


def test_embedded_default_reads_the_order_page_snapshot_beside_a_writer(tmp_path):
    """The snapshot takes no write lock: the page neither waits for a task's write nor fails "database is locked"."""
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    env.pop("REDIS_URL", None)
    assert "READ 1 1 at once" in _shell(env, SNAPSHOT_BESIDE_A_WRITER)
