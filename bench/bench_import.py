"""Order import: a 50,000-row CSV previewed and imported into a fresh event; target < 60 s for both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours> .venv/bin/python bench/bench_import.py [--rows 50000]

Needs a migrated PostgreSQL database, not the scale data: it makes its own organisation ("bench-import"), a
manager and a new event with three ticket types (one asks for personal data) on every run, writes the file in
memory (orders of one to three rows, quantities 1–4, a price on half the rows) and runs the import the way the
task does (orders.imports: import_run_create = the preview, then import_run_start + import_run_execute). Checks
the run's counts against the database afterwards (exit 1 when they differ), then deletes the event's orders
unless --keep. Prints wall-clock seconds and this process's CPU seconds: the rest is the database's share and
waiting for the machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "bench-hook:bench-only-webhook-password")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

HEADER = "reference,name,email,phone,ticket_type,quantity,price,paid_at,attendee_name,attendee_email,attendee_company"
TARGET_SECONDS = 60.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a local process (the database backend), from /proc; 0 when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_file(rows: int, rng: random.Random) -> bytes:
    """`rows` data rows: orders of 1–3 rows; the "Seated VIP" rows (one ticket each) carry an attendee."""
    lines = [HEADER]
    order = 0
    while len(lines) - 1 < rows:
        order += 1
        name = f"Guest {order}"
        email = f"guest{order}@example.com"
        paid = f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)} {rng.randint(10, 23)}:{rng.randint(10, 59)}"
        for position in range(min(rng.choice((1, 1, 1, 2, 3)), rows - (len(lines) - 1))):
            contact = (name, email, "+49 30 555" + str(order % 10000).zfill(4)) if position == 0 else ("", "", "")
            kind = rng.random()
            if kind < 0.15 or position == 2:
                attendee = (f"Attendee {order}-{position}", f"a{order}-{position}@example.com", "Acme")
                lines.append(",".join([f"B-{order}", *contact, "Seated VIP", "1", "", paid, *attendee]))
            else:  # an order's rows without attendees differ in type (a repeated row is a problem)
                ticket_type = ("Standing", "Early bird", "Standing")[position] if position else "Standing"
                price = f"{rng.randint(20, 60)}.{rng.choice(('00', '50'))}" if rng.random() < 0.5 else ""
                quantity = str(rng.randint(1, 4))
                lines.append(",".join([f"B-{order}", *contact, ticket_type, quantity, price, paid, "", "", ""]))
    return ("\n".join(lines) + "\n").encode()


def main() -> int:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from orders.imports import import_run_create, import_run_execute, import_run_start
    from orders.models import Order
    from organiser_portal.models import Event, Membership, Organisation, TicketType
    from tickets.models import PersonalDataField, Ticket

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the imported orders")
    args = parser.parse_args()

    org, _ = Organisation.objects.get_or_create(slug="bench-import", defaults={"name": "Bench import"})
    user, _ = get_user_model().objects.get_or_create(username="bench-import@example.com")
    Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": Membership.Role.MANAGER})
    start = timezone.now() + timedelta(days=60)
    event = Event.objects.create(organisation=org, name="Import bench", starts_at=start, ends_at=start)
    for name, price, personal in (
        ("Standing", "45.00", False),
        ("Early bird", "35.00", False),
        ("Seated VIP", "99.00", True),
    ):
        tt = TicketType.objects.create(
            organisation=org, event=event, name=name, price=Decimal(price), requires_personal_data=personal
        )
        if personal:
            PersonalDataField.objects.create(
                organisation=org, ticket_type=tt, key="company", label="Company", required=True
            )
    data = make_file(args.rows, random.Random(1))
    print(f"file: {args.rows:,} rows, {len(data) / 1_000_000:.1f} MB")

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    db0 = _cpu_seconds(backend)
    t0, c0 = time.perf_counter(), time.process_time()
    run = import_run_create(actor=user, event=event, file_name="bench.csv", data=data)
    preview, preview_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"preview: {preview:.1f} s ({preview_cpu:.1f} s CPU in this process) → {run.order_count:,} orders, {run.ticket_count:,} tickets, {run.error_count} problems"
    )
    if run.error_count:
        print(run.errors[:5])
        event.delete()
        return 1
    t1, c1 = time.perf_counter(), time.process_time()
    import_run_start(actor=user, run=run, send_tickets=False)
    run = import_run_execute(run.pk)
    write, write_cpu = time.perf_counter() - t1, time.process_time() - c1
    total = preview + write
    db_cpu = _cpu_seconds(backend) - db0
    orders = Order.objects.filter(event=event).count()
    tickets = Ticket.objects.filter(event=event).count()
    correct = run.status == "done" and orders == run.order_count and tickets == run.ticket_count
    print(
        f"import: {write:.1f} s ({write_cpu:.1f} s CPU in this process) → status {run.status}, {orders:,} orders, {tickets:,} tickets in the database"
    )
    print(
        f"preview + import of {args.rows:,} rows: {total:.1f} s (target < {TARGET_SECONDS:g} s); load average {os.getloadavg()[0]:.1f}"
    )
    cpu = preview_cpu + write_cpu
    print(f"CPU: {cpu:.1f} s in this process + {db_cpu:.1f} s in its PostgreSQL backend = {cpu + db_cpu:.1f} s")
    if not args.keep:
        Order.objects.filter(event=event).delete()
        event.delete()
    if total >= TARGET_SECONDS:
        print(f"over the target of {TARGET_SECONDS:g} s")
    return 0 if correct else 1  # the suite (bench/scripts.py) judges the figure against the target


if __name__ == "__main__":
    sys.exit(main())
