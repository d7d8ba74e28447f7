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
"""

from __future__ import annotations

import base64
import bisect
import itertools
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from organiser_portal.codes import ALPHABET
from organiser_portal.models import Event, Membership, Organisation, TicketType
from organiser_portal.money import from_minor, money_format, to_minor


def seed_log_path(database: str) -> Path:
    """One log per database, so a small seed into another database never passes for the measured data set."""
    return Path(settings.BASE_DIR) / "var" / f"seed_scale_{database}.json"


ORG_SLUG = "scale"
SUPPORT_USERNAME = "support@scale.example"
MANAGER_USERNAME = "manager@scale.example"
PASSWORD = "bench-scale"
# Fixed "now" of the data set, so the same seed gives the same rows on any day.
ANCHOR = int(datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp())
DAY = 86400

# The tables this command fills, with the columns it writes (in COPY order).
TABLES: dict[str, tuple[str, ...]] = {
    "guests_customer": ("id", "organisation_id", "email", "name", "phone", "address", "verified", "created_at"),
    "orders_order": (
        "id",
        "organisation_id",
        "event_id",
        "code",
        "customer_id",
        "contact_name",
        "contact_email",
        "contact_phone",
        "address",
        "status",
        "currency",
        "promo_code",
        "discount_total",
        "total",
        "refunded_total",
        "tickets_held",
        "email_status",
        "created_at",
        "paid_at",
        "cancelled_at",
    ),
    "orders_orderline": (
        "id",
        "organisation_id",
        "order_id",
        "ticket_type_id",
        "quantity",
        "unit_price",
        "discount",
        "fee",
        "tax",
    ),
    "orders_payment": (
        "id",
        "organisation_id",
        "order_id",
        "provider",
        "reference",
        "amount",
        "processing_fee",
        "status",
        "created_at",
        "confirmed_at",
    ),
    "orders_refund": (
        "id",
        "organisation_id",
        "order_id",
        "payment_id",
        "amount",
        "fee_kept",
        "status",
        "reason",
        "error",
        "idempotency_key",
        "requested_by_id",
        "created_at",
        "completed_at",
    ),
    "orders_refund_tickets": ("id", "refund_id", "ticket_id"),
    "orders_timelineentry": (
        "id",
        "organisation_id",
        "order_id",
        "actor_id",
        "actor_kind",
        "action",
        "data",
        "created_at",
    ),
    "tickets_ticket": (
        "id",
        "organisation_id",
        "event_id",
        "order_id",
        "line_id",
        "ticket_type_id",
        "public_id",
        "secret",
        "status",
        "invalid_reason",
        "used_at",
        "attendee_name",
        "attendee_email",
        "attendee_data",
        "created_at",
        "updated_at",
    ),
    "tickets_scan": (
        "id",
        "organisation_id",
        "event_id",
        "ticket_id",
        "raw_code",
        "scanned_at",
        "access_area",
        "access_point",
        "result",
        "reason",
        "device",
    ),
    "notifications_outgoingmessage": (
        "id",
        "organisation_id",
        "order_id",
        "kind",
        "channel",
        "recipient",
        "status",
        "status_reason",
        "provider",
        "provider_message_id",
        "attempts",
        "created_by_id",
        "created_at",
        "sent_at",
        "status_at",
        "opened_at",
        "clicked_at",
    ),
    "notifications_deliveryevent": (
        "id",
        "organisation_id",
        "message_id",
        "event_type",
        "occurred_at",
        "reason",
        "provider",
        "dedup_key",
        "raw",
        "received_at",
    ),
}

# --- pools ---------------------------------------------------------------------------------


def _pool(words: str) -> tuple[str, ...]:
    return tuple(words.split())


FIRST_NAMES = _pool(
    "Anna Maria Lena Laura Julia Sarah Lisa Hannah Lea Sophie Emma Mia Marie Johanna Katharina Clara Sophia Paula "
    "Charlotte Emilia Nele Lina Amelie Jana Carla Greta Helena Frieda Ida Lotta Nina Sandra Sabine Petra Claudia "
    "Susanne Andrea Nicole Stefanie Kerstin Monika Ursula Birgit Heike Tanja Ines Jessica Vanessa Chiara Elif Zeynep "
    "Ayşe Fatma Olga Natalia Agnieszka Giulia Francesca Lucía Camille Chloé Ingrid Astrid Freya Maja "
    "Lukas Leon Jonas Felix Paul Maximilian Luca Tim Finn Elias Noah Ben Jan Niklas David Moritz Julian Tobias "
    "Alexander Simon Philipp Florian Sebastian Daniel Michael Thomas Andreas Stefan Christian Markus Martin Frank "
    "Jürgen Klaus Peter Wolfgang Uwe Matthias Oliver Dennis Sven Jens Kai Mehmet Mustafa Ahmet Ali Emre Piotr "
    "Tomasz Marco Luca Giuseppe Pablo Javier Mateo Louis Hugo Lars Erik Björn Søren Liam Oscar Jack Ethan Noel René"
)
SURNAMES = _pool(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein "
    "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause "
    "Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
    "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
    "Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer "
    "Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch "
    "Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Yılmaz Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Kowalski "
    "Nowak Wiśniewski Wójcik Kowalczyk Kamińska Lewandowski Rossi Russo Ferrari Esposito Bianchi Romano Colombo "
    "García Fernández González Rodríguez López Martínez Sánchez Pérez Dubois Lefebvre Moreau Laurent Girard "
    "Jansen Vos Dekker Bakker Visser Smith Jones Williams Brown Taylor Wilson Johnson Andersson Johansson "
    "Nielsen Hansen Larsen Novák Horváth Popescu Ivanova Petrov Nguyen Tran Kim Park Chen Wang Li Zhang Ahmed Khan "
    "Silva Santos Oliveira Pereira Costa Papadopoulos Berisha Hodžić Kovačević Brenner Achterberg Quast Zander "
    "Thalheim Ostermann Wiegand Rademacher Leuschner Brinkmann Overbeck Ebeling Kastner Mertens Husmann Steinke"
)
# Shared mail domains with realistic weights, and the typos people really make.
DOMAINS = (
    ("gmail.com", 30),
    ("web.de", 16),
    ("gmx.de", 14),
    ("gmx.net", 5),
    ("t-online.de", 6),
    ("outlook.com", 5),
    ("hotmail.com", 5),
    ("yahoo.com", 3),
    ("icloud.com", 4),
    ("posteo.de", 1),
    ("mailbox.org", 1),
    ("freenet.de", 2),
    ("aol.com", 1),
    ("proton.me", 1),
    ("uni-hamburg.de", 1),
    ("siemens.com", 1),
    ("sap.com", 1),
    ("example-agentur.de", 1),
)
TYPO_DOMAINS = {
    "gmail.com": ("gmial.com", "gmai.com", "gmail.con", "gamil.com"),
    "web.de": ("wed.de", "web.d", "weeb.de"),
    "gmx.de": ("gmx.d", "gmc.de"),
    "hotmail.com": ("hotmial.com", "hotmail.con"),
    "yahoo.com": ("yaho.com",),
    "outlook.com": ("outlok.com",),
    "t-online.de": ("t-onlien.de", "tonline.de"),
}
TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "í": "i", "ó": "o", "á": "a", "ñ": "n"}
    | {"ş": "s", "ç": "c", "ı": "i", "ğ": "g", "ś": "s", "ń": "n", "ł": "l", "ó": "o", "ø": "o", "å": "a"}
    | {"č": "c", "ć": "c", "ž": "z", "š": "s", "ğ": "g", " ": "", "'": ""}
)
MOBILE_PREFIXES = ("151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "175", "176", "177")
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Leipzig", "Dresden", "Bremen", "Hannover")
STREETS = ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Lindenweg", "Am Markt", "Bergstraße")

EVENT_NAMES = (
    "Elbufer Festival",
    "Nordlicht Open Air",
    "Rheinklang",
    "Spreewald Beats",
    "Harbour Jazz Nights",
    "Winter Lights Market",
    "Tech Summit Berlin",
    "Isar Sound",
    "Ostsee Surf & Sound",
    "Altstadt Comedy Week",
    "Klassik im Park",
    "Indie Days Leipzig",
    "Metal Meadow",
    "Kinderfest Sommer",
    "Food Truck Weekend",
    "Late Night Techno",
    "Lesefestival",
    "Chorfest",
    "Street Art Tour",
    "Silvester Gala",
)
# (name, price cents, fee cents, requires personal data, weight)
TICKET_TYPES = (
    ("Day ticket", 5900, 250, False, 45),
    ("Weekend pass", 14900, 350, False, 35),
    ("VIP weekend", 29900, 500, True, 8),
    ("Child ticket", 1900, 100, False, 12),
)
TAX_RATE = 19
QUANTITIES = ((1, 33), (2, 31), (3, 9), (4, 12), (5, 4), (6, 4), (8, 3), (10, 4))
ORDER_STATUSES = (
    ("paid", 860),
    ("refunded", 25),
    ("cancelled", 20),
    ("expired", 80),
    ("reserved", 5),
    ("processing_payment", 5),
    ("confirming_payment", 5),
)
TICKET_EMAIL_OUTCOMES = (
    ("delivered", 900),
    ("bounced", 35),
    ("deferred", 10),
    ("sent", 30),
    ("rejected", 5),
    ("failed", 3),
    ("complained", 2),
)
BOUNCE_REASONS = (
    "550 5.1.1 The email account that you tried to reach does not exist",
    "550 5.1.1 <{r}>: Recipient address rejected: User unknown",
    "552 5.2.2 Mailbox full",
)
TYPO_BOUNCE = "Domain not found: {d} has no mail server"
KIND_LABEL = {"tickets": "Tickets", "tickets_resend": "Tickets (resent)", "refund_notice": "Refund notice"}
KIND_LABEL["cancellation_notice"] = "Cancellation notice"
AREAS = (("Main entrance", ("Gate A1", "Gate A2", "Gate A3", "Gate B1", "Gate B2")), ("VIP area", ("VIP gate",)))


def _weighted(pairs) -> Callable[[random.Random], Any]:
    values = [v for v, _ in pairs]
    cum = list(itertools.accumulate(w for _, w in pairs))
    total = cum[-1]

    def pick(rng: random.Random) -> Any:
        return values[bisect.bisect_right(cum, rng.random() * total)]

    return pick


PICK_DOMAIN = _weighted(DOMAINS)
PICK_QTY = _weighted(QUANTITIES)
PICK_STATUS = _weighted(ORDER_STATUSES)
PICK_OUTCOME = _weighted(TICKET_EMAIL_OUTCOMES)
PICK_TT = _weighted([(i, tt[4]) for i, tt in enumerate(TICKET_TYPES)])
# Surnames repeat the way they do in a population: a few very common, a long tail.
PICK_SURNAME = _weighted([(s, 1 / (i + 1) ** 0.85) for i, s in enumerate(SURNAMES)])

_minutes: dict[int, str] = {}


def ts(sec: int) -> str:
    """An epoch second as PostgreSQL timestamptz text; cached per minute because it is called 40M times."""
    m, s = divmod(sec, 60)
    prefix = _minutes.get(m)
    if prefix is None:
        prefix = _minutes[m] = datetime.fromtimestamp(m * 60, UTC).strftime("%Y-%m-%d %H:%M:")
    return f"{prefix}{s:02d}+00"


# Amounts are whole minor units (cents) here, for speed; organiser_portal.money rounds and writes them. Cached:
# a million orders repeat a few thousand amounts.
@cache
def money(units: int, currency: str) -> str:
    """Minor units as the amount's text in a numeric column: 1250 EUR → "12.50"."""
    return str(from_minor(units, currency))


@cache
def share(units: int, numerator: int, denominator: int, currency: str) -> int:
    """units × numerator / denominator, rounded to the minor unit as orders.services.order_create rounds."""
    return to_minor(from_minor(units, currency) * numerator / denominator, currency)


@cache
def processing_fee(total: int, currency: str) -> int:
    """The payment provider's fee on a total, as in the demo: 1.4 % plus 0.25."""
    return to_minor(from_minor(total, currency) * Decimal("0.014") + Decimal("0.25"), currency)


def _json(value: str) -> str:
    """A JSON string literal for COPY text format (our values hold no backslashes, tabs or newlines)."""
    return '"' + value.replace('"', "'") + '"'


def jdata(**kwargs: str) -> str:
    return "{" + ", ".join(f'"{k}": {_json(v)}' for k, v in kwargs.items()) + "}"


N = "\\N"  # NULL in COPY text format


@dataclass
class Counters:
    ids: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        self.ids[table] += 1
        self.rows[table] = self.rows.get(table, 0) + 1
        return self.ids[table]


class People:
    """Names, emails and phones drawn from the pools; emails unique where they must be."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.customer_emails: set[str] = set()

    def name(self) -> tuple[str, str, str]:
        first = self.rng.choice(FIRST_NAMES)
        last = PICK_SURNAME(self.rng)
        return first, last, f"{first} {last}"

    def email(self, first: str, last: str, typo_rate: float) -> str:
        rng = self.rng
        f, la = first.lower().translate(TRANSLIT), last.lower().translate(TRANSLIT)
        r = rng.random()
        if r < 0.35:
            local = f"{f}.{la}"
        elif r < 0.5:
            local = f"{f[0]}{la}"
        elif r < 0.65:
            local = f"{f}.{la}{rng.randint(1, 99)}"
        elif r < 0.75:
            local = f"{f}_{la}"
        elif r < 0.85:
            local = f"{la}.{f}"
        else:
            local = f"{f}{rng.randint(60, 2008)}"
        domain = PICK_DOMAIN(rng)
        if rng.random() < typo_rate and domain in TYPO_DOMAINS:
            domain = rng.choice(TYPO_DOMAINS[domain])
        return f"{local}@{domain}"

    def unique_customer_email(self, first: str, last: str) -> str:
        email = self.email(first, last, typo_rate=0.015)
        while email in self.customer_emails:
            local, domain = email.split("@")
            email = f"{local}{self.rng.randint(1, 999)}@{domain}"
        self.customer_emails.add(email)
        return email

    def phone(self) -> str:
        rng = self.rng
        return f"+49{rng.choice(MOBILE_PREFIXES)}{rng.randint(1000000, 99999999)}"

    def address(self) -> str:
        rng = self.rng
        return f"{rng.choice(STREETS)} {rng.randint(1, 140)}, {rng.randint(10115, 99998)} {rng.choice(CITIES)}"


def fix_typo(email: str) -> str:
    local, domain = email.split("@")
    for good, typos in TYPO_DOMAINS.items():
        if domain in typos:
            return f"{local}@{good}"
    return email


def is_typo(email: str) -> bool:
    return fix_typo(email) != email


@dataclass
class EventPlan:
    event: Event
    ticket_types: list[TicketType]
    orders: int
    sale_start: int
    sale_end: int
    starts: int


@dataclass
class SeedResult:
    organisation: Organisation
    rows: dict[str, int]
    seconds: dict[str, float]


class CopyWriter:
    """Streams (table, text) chunks into PostgreSQL with COPY from a background thread."""

    def __init__(self, raw_connection, freeze: bool):
        self.raw = raw_connection
        self.freeze = freeze
        self.queue: queue.Queue = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        cur = self.raw.cursor()
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            table, text = item
            try:
                cols = ", ".join(TABLES[table])
                opts = " WITH (FREEZE)" if self.freeze else ""
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN{opts}") as cp:
                    cp.write(text)
            except BaseException as exc:  # handed to the main thread
                self.error = exc

    def put(self, table: str, lines: list[str]) -> None:
        if self.error is not None:
            raise self.error
        if lines:
            self.queue.put((table, "\n".join(lines) + "\n"))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


# Neutral values for required columns that other features add later and this generator doesn't know.
_NEUTRAL = {"character varying": "''", "text": "''", "boolean": "false", "integer": "0", "smallint": "0"}
_NEUTRAL |= {"bigint": "0", "jsonb": "'{}'::jsonb"}


def _fill_unknown_columns(cur) -> list[str]:
    """Give required columns this generator doesn't write a neutral default while loading; return the SQL that undoes it."""
    undo = []
    for table, cols in TABLES.items():
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL",
            [table],
        )
        for column, data_type in cur.fetchall():
            if column in cols:
                continue
            if data_type not in _NEUTRAL:
                raise RuntimeError(
                    f"seed_scale doesn't fill {table}.{column} ({data_type}): add it to bench/seed_scale.py"
                )
            cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {_NEUTRAL[data_type]}')
            undo.append(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')
    return undo


def _drop_indexes(cur) -> list[str]:
    """Drop every secondary index and unique constraint of the loaded tables; return the SQL that rebuilds them."""
    tables = list(TABLES)
    cur.execute(
        """
        SELECT c.conname, t.relname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE t.relname = ANY(%s) AND c.contype IN ('u', 'x') AND t.relnamespace = current_schema()::regnamespace
        """,
        [tables],
    )
    constraints = cur.fetchall()
    rebuild = [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {d}' for name, t, d in constraints]
    for name, t, _ in constraints:
        cur.execute(f'ALTER TABLE {t} DROP CONSTRAINT "{name}"')
    cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
        """,
        [tables],
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    # Big GIN (trigram) indexes first: they are the slowest to build.
    rebuild += sorted((d for _, d in indexes), key=lambda d: "gin" not in d.lower())
    return rebuild


class Generator:
    def __init__(
        self, *, rng: random.Random, org: Organisation, plans: list[EventPlan], n_customers: int, users: dict[str, int]
    ):
        self.rng = rng
        self.org_id = org.pk
        self.plans = plans
        self.n_customers = n_customers
        self.users = users
        self.people = People(rng)
        self.codes: set[str] = set()
        self.ticket_ids: set[str] = set()
        self.customers: list[tuple[str, str, str, bool]] = []  # name, email, phone, verified

    def code(self, length: int, seen: set[str]) -> str:
        choices = self.rng.choices
        while True:
            c = "".join(choices(ALPHABET, k=length))
            if c not in seen:
                seen.add(c)
                return c

    def secret(self) -> str:
        return base64.urlsafe_b64encode(self.rng.getrandbits(160).to_bytes(20, "big")).decode().rstrip("=")

    def message_id(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # --- customer accounts -------------------------------------------------------------------
    def customer_rows(self, c: Counters) -> Iterator[list[str]]:
        rng, people, org = self.rng, self.people, self.org_id
        batch: list[str] = []
        for _ in range(self.n_customers):
            first, last, name = people.name()
            email = people.unique_customer_email(first, last)
            verified = rng.random() < 0.35 and not is_typo(email)
            phone = people.phone() if rng.random() < 0.6 else ""
            address = people.address() if rng.random() < 0.3 else ""
            created = ANCHOR - rng.randint(1, 900) * DAY + rng.randint(0, DAY)
            cid = c.next("guests_customer")
            self.customers.append((name, email, phone, verified))
            batch.append(
                f"{cid}\t{org}\t{email}\t{name}\t{phone}\t{address}\t{'t' if verified else 'f'}\t{ts(created)}"
            )
            if len(batch) >= 50000:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- orders and everything hanging off them ----------------------------------------------
    def order_batches(self, c: Counters, customer_base: int, batch_size: int) -> Iterator[dict[str, list[str]]]:
        out: dict[str, list[str]] = {t: [] for t in TABLES if t != "guests_customer"}
        done = 0
        for plan in self.plans:
            times = sorted(self.rng.randint(plan.sale_start, plan.sale_end) for _ in range(plan.orders))
            for created in times:
                self.one_order(c, out, plan, created, customer_base)
                done += 1
                if done % batch_size == 0:
                    yield out
                    out = {t: [] for t in out}
        yield out

    def one_order(
        self, c: Counters, out: dict[str, list[str]], plan: EventPlan, created: int, customer_base: int
    ) -> None:
        rng, people, org = self.rng, self.people, self.org_id
        ev = plan.event
        cur = ev.currency
        order_id = c.next("orders_order")
        tl = out["orders_timelineentry"]
        support, manager = self.users["support"], self.users["manager"]

        def timeline(at: int, action: str, data: str = "{}", actor: int | None = None, kind: str = "system") -> None:
            tid = c.next("orders_timelineentry")
            tl.append(f"{tid}\t{org}\t{order_id}\t{N if actor is None else actor}\t{kind}\t{action}\t{data}\t{ts(at)}")

        # Who: a customer account (75 %) or a guest checkout.
        customer_id = N
        verified = False
        if rng.random() < 0.75 and self.customers:
            ci = rng.randrange(len(self.customers))
            name, email, phone, verified = self.customers[ci]
            customer_id = str(customer_base + ci + 1)
            if not phone and rng.random() < 0.3:
                phone = people.phone()
        else:
            first, last, name = people.name()
            email = people.email(first, last, typo_rate=0.02)
            phone = people.phone() if rng.random() < 0.65 else ""
        address = people.address() if rng.random() < 0.2 else ""

        # What: lines and totals, computed exactly as orders.services.order_create does.
        qty = PICK_QTY(rng)
        tts = plan.ticket_types
        first_tt = PICK_TT(rng)
        if qty >= 2 and rng.random() < 0.25:
            other = (first_tt + 1 + rng.randrange(len(tts) - 1)) % len(tts)
            split = rng.randint(1, qty - 1)
            parts = [(first_tt, split), (other, qty - split)]
        else:
            parts = [(first_tt, qty)]
        promo = ""
        pct = 0
        if rng.random() < 0.06:
            promo, pct = rng.choice((("EARLYBIRD", 10), ("FRIENDS15", 15), ("CREW", 50)))
        lines = []  # (line_id, tt_index, qty, price, fee)
        discount_total = total = 0
        ol = out["orders_orderline"]
        for tti, q in parts:
            _, price, fee_each, _, _ = TICKET_TYPES[tti]
            discount = share(price * q, pct, 100, cur)
            fee = fee_each * q
            taxable = price * q - discount
            tax = share(taxable, TAX_RATE, 100 + TAX_RATE, cur)
            line_id = c.next("orders_orderline")
            ol.append(
                f"{line_id}\t{org}\t{order_id}\t{tts[tti].pk}\t{q}\t{money(price, cur)}\t{money(discount, cur)}\t{money(fee, cur)}\t{money(tax, cur)}"
            )
            lines.append((line_id, tti, q, price, fee))
            discount_total += discount
            total += price * q - discount + fee

        status = PICK_STATUS(rng)
        if created > ANCHOR - 2 * DAY and rng.random() < 0.5:
            status = "reserved"
        timeline(created, "order.reserved", jdata(total=money(total, cur)))
        t = created + rng.randint(20, 400)
        paid_at = cancelled_at = None
        payment_id: int | str = N
        ticketed = status in ("paid", "refunded", "cancelled")
        provider = "stripe" if rng.random() < 0.65 else "paypal"
        if status != "reserved":
            timeline(t, "order.processing_payment", jdata(provider=provider))
            pay_status = "pending"
            confirmed_at = N
            if status != "processing_payment" and not (status == "expired" and rng.random() < 0.6):
                t += rng.randint(3, 60)
                timeline(t, "order.confirming_payment")
            if ticketed:
                t += rng.randint(1, 30)
                paid_at = t
                timeline(t, "order.paid")
                pay_status, confirmed_at = "confirmed", ts(t)
            elif status == "expired":
                t += rng.randint(900, 1800)
                timeline(t, "order.expired", jdata(reason="payment abandoned"))
                pay_status = "cancelled"
            pfee = processing_fee(total, cur)
            payment_id = c.next("orders_payment")
            out["orders_payment"].append(
                f"{payment_id}\t{org}\t{order_id}\t{provider}\t{'pi_' if provider == 'stripe' else 'PAY-'}{self.rng.getrandbits(64):016x}"
                f"\t{money(total, cur)}\t{money(pfee, cur)}\t{pay_status}\t{ts(created + 20)}\t{confirmed_at}"
            )
        tickets_held = False
        email_status = "not_sent"
        refunded_total = 0
        contact_email = email

        ticket_rows: list[list[Any]] = []  # mutable rows, written at the end
        if ticketed:
            assert paid_at is not None
            for line_id, tti, q, _price, _fee in lines:
                personal = TICKET_TYPES[tti][3]
                for k in range(q):
                    tid = c.next("tickets_ticket")
                    public_id = self.code(9, self.ticket_ids)
                    named = personal or rng.random() < 0.25
                    att = (name if k == 0 else people.name()[2]) if named else ""
                    data = jdata(date_of_birth=f"19{rng.randint(55, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}")
                    ticket_rows.append(
                        [tid, line_id, tti, public_id, "valid", "", N, att, data if personal else "{}", paid_at]
                    )

            # The ticket email, and what happened to it.
            held = not ev.send_tickets_automatically
            send_at: int | None = paid_at + 1
            if held:
                timeline(paid_at, "order.tickets_held")
                if rng.random() < 0.25 or paid_at > ANCHOR - 3 * DAY:
                    tickets_held = status == "paid"
                    send_at = None
                else:
                    send_at = paid_at + rng.randint(3600, 5 * DAY)
                    timeline(send_at, "order.held_tickets_sent", jdata(recipient=email), actor=support, kind="user")
            if send_at is not None:
                if phone and rng.random() < 0.85:
                    self.message(c, out, order_id, "tickets", "sms", phone, "delivered", send_at - 1)
                outcome = PICK_OUTCOME(rng)
                if is_typo(email):
                    outcome = "bounced"
                if send_at > ANCHOR - 600:
                    outcome = "sent"
                email_status, last_at = self.message(
                    c, out, order_id, "tickets", "email", email, outcome, send_at, timeline
                )
                # Support fixes bounced typos and resends; some customers ask for a resend anyway.
                if outcome == "bounced" and is_typo(email) and rng.random() < 0.6:
                    fixed = fix_typo(email)
                    at = last_at + rng.randint(600, 3 * DAY)
                    timeline(
                        at,
                        "order.contact_changed",
                        jdata(changes=f"email {email} → {fixed}"),
                        actor=support,
                        kind="user",
                    )
                    contact_email = fixed
                    email_status, last_at = self.resend(c, out, order_id, fixed, at + 5, support, timeline)
                elif outcome == "delivered" and rng.random() < 0.5:
                    to = email if rng.random() < 0.85 else people.email(*people.name()[:2], typo_rate=0)
                    at = last_at + rng.randint(600, 20 * DAY)
                    email_status, last_at = self.resend(c, out, order_id, to, at, support, timeline)
                    if rng.random() < 0.3:
                        email_status, last_at = self.resend(c, out, order_id, to, last_at + 3600, support, timeline)

            # Money back: full refunds, cancellations, partial refunds (one ticket).
            after = max(paid_at + 60, min(paid_at + rng.randint(DAY, 20 * DAY), ANCHOR - 60))
            partial = status == "paid" and len(ticket_rows) >= 2 and rng.random() < 0.02
            if status == "refunded" or partial:
                fee_kept = sum(f for *_, f in lines)
                refund_tickets = ticket_rows if status == "refunded" else ticket_rows[-1:]
                if status == "refunded":
                    amount = total - fee_kept
                else:
                    unit = next(p for lid, _, _, p, _ in lines if lid == refund_tickets[0][1])
                    amount = min(unit, total)
                    fee_kept = 0
                refunded_total = amount
                refund_id = c.next("orders_refund")
                shown = money_format(from_minor(amount, cur), cur, style="code")  # as the demo's refunds
                timeline(after, "refund.requested", jdata(amount=shown), actor=manager, kind="user")
                timeline(after + 2, "refund.processing", jdata(amount=shown))
                timeline(after + 40, "refund.succeeded", jdata(amount=shown))
                out["orders_refund"].append(
                    f"{refund_id}\t{org}\t{order_id}\t{payment_id}\t{money(amount, cur)}\t{money(fee_kept, cur)}\tsucceeded"
                    f"\tCustomer request\t\tscale-refund-{order_id}\t{manager}\t{ts(after)}\t{ts(after + 40)}"
                )
                for row in refund_tickets:
                    row[4], row[5], row[9] = "invalid", "refunded", after + 40
                    out["orders_refund_tickets"].append(f"{c.next('orders_refund_tickets')}\t{refund_id}\t{row[0]}")
                    timeline(after + 40, "ticket.refunded", jdata(ticket=row[3]))
                if status == "refunded":
                    timeline(after + 40, "order.refunded", actor=manager, kind="user")
                if send_at is not None:
                    self.message(
                        c, out, order_id, "refund_notice", "email", contact_email, "delivered", after + 41, timeline
                    )
            elif status == "cancelled":
                cancelled_at = after
                timeline(after, "order.cancelled", actor=manager, kind="user")
                for row in ticket_rows:
                    row[4], row[5], row[9] = "invalid", "cancelled", after
                    timeline(after, "ticket.cancelled", jdata(ticket=row[3]))
                if send_at is not None:
                    self.message(
                        c,
                        out,
                        order_id,
                        "cancellation_notice",
                        "email",
                        contact_email,
                        "delivered",
                        after + 1,
                        timeline,
                    )
            elif status == "paid" and rng.random() < 0.003:
                row = ticket_rows[0]
                row[4], row[5], row[9] = "invalid", "transferred", after
                timeline(after, "ticket.transfer_created", jdata(ticket=row[3], to=people.name()[2]), actor=support)

            # Door scans for events that have happened.
            if plan.starts < ANCHOR:
                self.scans(c, out, plan, ticket_rows)
            tk = out["tickets_ticket"]
            for tid, line_id, tti, public_id, st, reason, used, att, data, updated in ticket_rows:
                tk.append(
                    f"{tid}\t{org}\t{ev.pk}\t{order_id}\t{line_id}\t{tts[tti].pk}\t{public_id}\t{self.secret()}\t{st}"
                    f"\t{reason}\t{used}\t{att}\t\t{data}\t{ts(paid_at)}\t{ts(updated)}"
                )

        code = self.code(7, self.codes)
        out["orders_order"].append(
            f"{order_id}\t{org}\t{ev.pk}\t{code}\t{customer_id}\t{name}\t{contact_email}\t{phone}\t{address}\t{status}"
            f"\t{ev.currency}\t{promo}\t{money(discount_total, cur)}\t{money(total, cur)}\t{money(refunded_total, cur)}"
            f"\t{'t' if tickets_held else 'f'}\t{email_status}\t{ts(created)}"
            f"\t{ts(paid_at) if paid_at else N}\t{ts(cancelled_at) if cancelled_at else N}"
        )

    def resend(self, c, out, order_id, to, at, actor, timeline) -> tuple[str, int]:
        timeline(at, "tickets.resent", jdata(recipient=to), actor=actor, kind="user")
        outcome = "sent" if at > ANCHOR - 600 else "delivered"
        return self.message(c, out, order_id, "tickets_resend", "email", to, outcome, at, timeline, created_by=actor)

    def message(
        self, c, out, order_id, kind, channel, recipient, outcome, at, timeline=None, created_by=None
    ) -> tuple[str, int]:
        """One outgoing message with its delivery events; returns (final status, time of the last change)."""
        rng, org = self.rng, self.org_id
        mid = c.next("notifications_outgoingmessage")
        provider = "postmark" if channel == "email" else "sms-gateway"
        pmid = self.message_id()
        sent = at + rng.randint(2, 25)
        status_at = sent
        reason = ""
        opened = clicked = N
        events: list[tuple[str, int, str]] = []
        label = KIND_LABEL[kind]
        # The timeline keeps "sent" only where nothing was heard after it; delivered/bounced say the rest.
        if timeline and outcome in ("sent", "failed"):
            timeline(sent, "email.sent", jdata(kind=label, recipient=recipient))
        if outcome == "failed":
            reason = "Provider refused the message: invalid From address"
            status_at = sent
            pmid = ""
            if timeline:
                timeline(sent, "email.failed", jdata(kind=label, recipient=recipient, reason=reason))
        elif outcome != "sent":
            t = sent + rng.randint(1, 90)
            if outcome == "bounced":
                if rng.random() < 0.3:
                    events.append(("deferred", t, "421 4.7.0 Try again later"))
                    t += rng.randint(600, 7200)
                domain = recipient.split("@")[-1]
                reason = (
                    TYPO_BOUNCE.format(d=domain)
                    if is_typo(recipient)
                    else rng.choice(BOUNCE_REASONS).format(r=recipient)
                )
                events.append(("bounced", t, reason))
            elif outcome == "deferred":
                reason = "421 4.7.0 Greylisted, try again later"
                events.append(("deferred", t, reason))
            elif outcome == "rejected":
                reason = "Recipient is on the suppression list (previous hard bounce)"
                events.append(("rejected", t, reason))
            else:
                events.append(("delivered", t, ""))
                if outcome == "complained":
                    t += rng.randint(3600, 5 * DAY)
                    reason = "Recipient marked the message as spam"
                    events.append(("complained", t, ""))
                elif channel == "email" and rng.random() < 0.45:
                    o = t + rng.randint(60, 2 * DAY)
                    opened = ts(o)
                    events.append(("opened", o, ""))
                    if rng.random() < 0.35:
                        cl = o + rng.randint(5, 600)
                        clicked = ts(cl)
                        events.append(("clicked", cl, ""))
            status_at = max(e[1] for e in events if e[0] not in ("opened", "clicked"))
            if timeline:
                for etype, et, ereason in events:
                    if etype in ("opened", "clicked"):
                        continue
                    timeline(
                        et,
                        f"email.{etype}",
                        jdata(kind=label, recipient=recipient, reason=ereason),
                        kind="webhook",
                    )
        actor = N if created_by is None else created_by
        out["notifications_outgoingmessage"].append(
            f"{mid}\t{org}\t{order_id}\t{kind}\t{channel}\t{recipient}\t{outcome}\t{reason}\t{provider}\t{pmid}\t1"
            f"\t{actor}\t{ts(at)}\t{ts(sent)}\t{ts(status_at)}\t{opened}\t{clicked}"
        )
        if channel == "email":
            de = out["notifications_deliveryevent"]
            for n, (etype, et, ereason) in enumerate(events):
                eid = c.next("notifications_deliveryevent")
                raw = f'{{"RecordType": "{etype}", "MessageID": "{pmid}"}}'
                de.append(
                    f"{eid}\t{org}\t{mid}\t{etype}\t{ts(et)}\t{ereason}\tpostmark\tpostmark:{pmid}:{etype}:{n}\t{raw}\t{ts(et + 1)}"
                )
        return outcome, status_at

    def scans(self, c: Counters, out: dict[str, list[str]], plan: EventPlan, ticket_rows: list[list[Any]]) -> None:
        rng, org = self.rng, self.org_id
        sc = out["tickets_scan"]
        for row in ticket_rows:
            valid = row[4] == "valid"
            if valid and rng.random() < 0.52:
                area, points = AREAS[1] if TICKET_TYPES[row[2]][3] else AREAS[0]
                at = plan.starts + rng.randint(-1800, 3 * 3600)
                row[6] = ts(at)
                sid = c.next("tickets_scan")
                dev = f"scanner-{rng.randint(1, 24):02d}"
                sc.append(
                    f"{sid}\t{org}\t{plan.event.pk}\t{row[0]}\t\t{ts(at)}\t{area}\t{rng.choice(points)}\tadmitted\t\t{dev}"
                )
                if rng.random() < 0.06:
                    sid = c.next("tickets_scan")
                    at2 = at + rng.randint(60, 4 * 3600)
                    sc.append(
                        f"{sid}\t{org}\t{plan.event.pk}\t{row[0]}\t\t{ts(at2)}\t{area}\t{rng.choice(points)}\tdenied\talready_used\t{dev}"
                    )
            elif not valid and rng.random() < 0.1:
                sid = c.next("tickets_scan")
                at = plan.starts + rng.randint(0, 3 * 3600)
                sc.append(
                    f"{sid}\t{org}\t{plan.event.pk}\t{row[0]}\t\t{ts(at)}\tMain entrance\tGate A1\tdenied\tinvalid\tscanner-01"
                )
        if rng.random() < 0.01:
            sid = c.next("tickets_scan")
            at = plan.starts + rng.randint(0, 3 * 3600)
            raw = "".join(rng.choices(ALPHABET, k=12))
            sc.append(
                f"{sid}\t{org}\t{plan.event.pk}\t{N}\t{raw}\t{ts(at)}\tMain entrance\tGate A2\tdenied\tunknown\tscanner-02"
            )


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
                processing_fee=from_minor(fee, event.currency),
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
    _minutes.clear()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        existing = Organisation.objects.filter(slug=ORG_SLUG).first()
        if existing and not replace:
            raise RuntimeError("The scale organisation exists already; pass --replace to load it again.")
        others = Organisation.objects.exclude(slug=ORG_SLUG).exists()
        with connection.cursor() as cur:
            undo_defaults = _fill_unknown_columns(cur)
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
            rebuild = _drop_indexes(cur)
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
