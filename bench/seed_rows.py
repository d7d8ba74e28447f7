"""The rows of the scale data: customer accounts, then per event its orders with their lines, payment,
tickets, refunds, timeline, messages and door scans, as COPY text per table."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from organiser_portal.codes import ALPHABET
from organiser_portal.models import Event, Organisation, TicketType
from organiser_portal.money import from_minor, money_format, to_minor

from .seed_messages import Messages
from .seed_pools import (
    AREAS,
    PICK_OUTCOME,
    PICK_QTY,
    PICK_STATUS,
    PICK_TT,
    TAX_RATE,
    TICKET_TYPES,
    People,
    fix_typo,
    is_typo,
    search_keys,
)
from .seed_tables import ANCHOR, DAY, TABLES, Counters, N, jdata, ts


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


@dataclass
class EventPlan:
    event: Event
    ticket_types: list[TicketType]
    orders: int
    sale_start: int
    sale_end: int
    starts: int


class Generator:
    def __init__(
        self, *, rng: random.Random, org: Organisation, plans: list[EventPlan], n_customers: int, users: dict[str, int]
    ):
        self.rng = rng
        self.org_id = org.pk
        self.country = org.country
        self.plans = plans
        self.n_customers = n_customers
        self.users = users
        self.people = People(rng)
        self.messages = Messages(rng, self.org_id)
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
            keys = "\t".join(search_keys(name, phone, self.country))
            batch.append(
                f"{cid}\t{org}\t{email}\t{name}\t{phone}\t{address}\t{'t' if verified else 'f'}\t{ts(created)}\t{keys}"
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
                    self.messages.message(c, out, order_id, "tickets", "sms", phone, "delivered", send_at - 1)
                outcome = PICK_OUTCOME(rng)
                if is_typo(email):
                    outcome = "bounced"
                if send_at > ANCHOR - 600:
                    outcome = "sent"
                email_status, last_at = self.messages.message(
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
                    email_status, last_at = self.messages.resend(c, out, order_id, fixed, at + 5, support, timeline)
                elif outcome == "delivered" and rng.random() < 0.5:
                    to = email if rng.random() < 0.85 else people.email(*people.name()[:2], typo_rate=0)
                    at = last_at + rng.randint(600, 20 * DAY)
                    email_status, last_at = self.messages.resend(c, out, order_id, to, at, support, timeline)
                    if rng.random() < 0.3:
                        email_status, last_at = self.messages.resend(
                            c, out, order_id, to, last_at + 3600, support, timeline
                        )

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
                    self.messages.message(
                        c, out, order_id, "refund_notice", "email", contact_email, "delivered", after + 41, timeline
                    )
            elif status == "cancelled":
                cancelled_at = after
                timeline(after, "order.cancelled", actor=manager, kind="user")
                for row in ticket_rows:
                    row[4], row[5], row[9] = "invalid", "cancelled", after
                    timeline(after, "ticket.cancelled", jdata(ticket=row[3]))
                if send_at is not None:
                    self.messages.message(
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
            f"\t{chr(9).join(search_keys(name, phone, ev.country or self.country))}"
        )

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
