"""Scale data for the benchmarks: one organisation with a million orders, loaded with COPY.

`python bench/seed.py --orders 1000000 --seed 1` fills PostgreSQL with one
organisation ("scale"), 20 events, and per 1,000 orders about 2,500 tickets, 600
customer accounts, 2,000 messages with their delivery events, 5,000+ timeline entries
and 1,000 scans. Every row follows the models' rules (an order's email_status is the
status of its latest ticket email, refunded_total ≤ total, a ticket has an
invalid_reason only when invalid, an admitted scan sets the ticket's used_at …), and
the same seed gives the same rows.

How it stays under 15 minutes on 2 cores: rows are generated in Python with one seeded
`random.Random` and precomputed pools, and streamed with COPY (FREEZE, in one
transaction, FK triggers off) by a writer thread while the next batch is generated, so
Python and PostgreSQL each keep one core busy. Secondary indexes and unique constraints
are dropped first and rebuilt from their own definitions after loading, then ANALYZE.
Everything runs in one transaction: a failure leaves the database as it was.

This module makes the organisation, its users and events, and runs the load. The rest, one import
direction (seed_scale → seed_copy, seed_rows → seed_messages → seed_pools, seed_tables):
seed_tables (the tables, their columns in COPY order, the ids and COPY text of values), seed_pools
(names, mail domains, events, ticket types and their weights), seed_rows (the rows per order),
seed_messages (emails and SMS with their delivery events), seed_copy (the COPY writer thread and
the indexes dropped and rebuilt).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from organiser_portal.codes import ALPHABET
from organiser_portal.models import Event, Membership, Organisation, TicketType
from organiser_portal.money import from_minor

from .seed_copy import CopyWriter, drop_indexes, fill_unknown_columns
from .seed_pools import EVENT_NAMES, TAX_RATE, TICKET_TYPES
from .seed_rows import EventPlan, Generator
from .seed_tables import ANCHOR, DAY, TABLES, Counters, ts_forget


def seed_log_path(database: str) -> Path:
    """One log per database, so a small seed into another database never passes for the measured data set."""
    return Path(settings.BASE_DIR) / "var" / f"seed_scale_{database}.json"


ORG_SLUG = "scale"
SUPPORT_USERNAME = "support@scale.example"
MANAGER_USERNAME = "manager@scale.example"
PASSWORD = "bench-scale"


@dataclass
class SeedResult:
    organisation: Organisation
    rows: dict[str, int]
    seconds: dict[str, float]


def _setup_org(rng: random.Random, n_orders: int) -> tuple[Organisation, list[EventPlan], dict[str, int]]:
    User = get_user_model()
    org = Organisation.objects.create(name="Scale Festivals GmbH", slug=ORG_SLUG)
    users = {}
    for role, username in (("support", SUPPORT_USERNAME), ("manager", MANAGER_USERNAME)):
        user, _ = User.objects.get_or_create(username=username, defaults={"email": username})
        user.set_password(PASSWORD)
        user.save()
        Membership.objects.create(user=user, organisation=org, role=role)
        users[role] = user.pk
    taken = set(Event.objects.values_list("public_id", flat=True))
    # One big festival, a few mid-sized events, a long tail; 12 of 20 already happened.
    weights = [10, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 1.5, 1.5, 1, 1, 1, 1, 0.5, 0.5]
    offsets = [-150, -120, -100, -80, -60, -45, -30, -20, -12, -7, -4, -1, 5, 12, 25, 40, 60, 90, 120, 150]
    plans = []
    remaining = n_orders
    for i, (name, w, off) in enumerate(zip(EVENT_NAMES, weights, offsets)):
        public_id = "".join(rng.choices(ALPHABET, k=6))
        while public_id in taken:
            public_id = "".join(rng.choices(ALPHABET, k=6))
        taken.add(public_id)
        starts = ANCHOR + off * DAY + 18 * 3600 - 12 * 3600
        event = Event.objects.create(
            organisation=org,
            name=f"{name} 2026",
            public_id=public_id,
            starts_at=datetime.fromtimestamp(starts, UTC),
            ends_at=datetime.fromtimestamp(starts + (3 * DAY if w >= 3 else 6 * 3600), UTC),
            venue=rng.choice(("Messegelände", "Stadtpark Bühne", "Hafenhalle", "Arena Nord", "Zitadelle")),
            send_tickets_automatically=i not in (7, 15),
        )
        tts = [
            TicketType.objects.create(
                organisation=org,
                event=event,
                name=tt_name,
                price=from_minor(price, event.currency),
                booking_fee=from_minor(fee, event.currency),
                tax_rate=TAX_RATE,
                requires_personal_data=personal,
            )
            for tt_name, price, fee, personal, _ in TICKET_TYPES
        ]
        n = round(n_orders * w / sum(weights)) if i < len(EVENT_NAMES) - 1 else remaining
        n = min(n, remaining)
        remaining -= n
        sale_end = min(starts, ANCHOR - 60)
        plans.append(EventPlan(event, tts, n, sale_end - 150 * DAY, sale_end, starts))
    return org, plans, users


def seed_scale(
    *, orders: int, seed: int = 1, replace: bool = False, log: Callable[[str], None] = print, batch_size: int = 20000
) -> SeedResult:
    """Load the scale organisation. Refuses when it exists unless `replace`."""
    rng = random.Random(seed)
    ts_forget()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        existing = Organisation.objects.filter(slug=ORG_SLUG).first()
        if existing and not replace:
            raise RuntimeError("The scale organisation exists already; pass --replace to load it again.")
        others = Organisation.objects.exclude(slug=ORG_SLUG).exists()
        with connection.cursor() as cur:
            undo_defaults = fill_unknown_columns(cur)
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute("SET LOCAL session_replication_role = replica")  # no FK triggers while loading
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cur.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            # A dedicated benchmark database (no other organisation): empty the tables in this
            # transaction so COPY can write frozen rows. Otherwise append next to the others.
            fresh = not others
            if fresh:
                cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            elif existing:
                raise RuntimeError("--replace only works in a database that holds no other organisation.")
            if existing:
                existing.delete()
            ids = {}
            for table in TABLES:
                cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                ids[table] = cur.fetchone()[0]
            rebuild = drop_indexes(cur)
        org, plans, users = _setup_org(rng, orders)
        seconds["setup"] = time.perf_counter() - t0

        connection.ensure_connection()
        writer = CopyWriter(connection.connection, freeze=fresh)
        counters = Counters(ids=dict(ids))
        gen = Generator(rng=rng, org=org, plans=plans, n_customers=round(orders * 0.6), users=users)
        t1 = time.perf_counter()
        try:
            for chunk in gen.customer_rows(counters):
                writer.put("guests_customer", chunk)
            for n, batch in enumerate(gen.order_batches(counters, ids["guests_customer"], batch_size), 1):
                for table, lines in batch.items():
                    writer.put(table, lines)
                if n % 10 == 0:
                    log(f"  {n * batch_size:,} orders generated ({time.perf_counter() - t1:.0f} s)")
        finally:
            writer.close()
        seconds["generate_and_copy"] = time.perf_counter() - t1

        t2 = time.perf_counter()
        with connection.cursor() as cur:
            for sql in undo_defaults + rebuild:
                ti = time.perf_counter()
                cur.execute(sql)
                if orders >= 100000:
                    log(f"  {time.perf_counter() - ti:6.1f} s  {sql[:110]}")
            for table in TABLES:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
                )
            seconds["indexes"] = time.perf_counter() - t2
            t3 = time.perf_counter()
            cur.execute("ANALYZE " + ", ".join(TABLES))
            seconds["analyze"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    from guests.services import name_words_refresh  # the search box's typo vocabulary, from the names just loaded

    name_words_refresh(organisation=org)
    seconds["name words"] = time.perf_counter() - t4
    seconds["total"] = time.perf_counter() - t0
    return SeedResult(organisation=org, rows=counters.rows, seconds=seconds)
