"""The tables the scale data fills, the ids it gives their rows, and the COPY text of their values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Fixed "now" of the data set, so the same seed gives the same rows on any day.
ANCHOR = int(datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp())
DAY = 86400

# The tables the scale data fills, with the columns it writes (in COPY order).
TABLES: dict[str, tuple[str, ...]] = {
    "guests_customer": (
        *("id", "organisation_id", "email", "name", "phone", "address", "verified", "created_at"),
        *("name_key", "phone_e164"),
    ),
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
        "name_key",
        "contact_phone_e164",
    ),
    "orders_orderline": (
        "id",
        "organisation_id",
        "order_id",
        "ticket_type_id",
        "quantity",
        "unit_price",
        "discount",
        "booking_fee",
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
        "booking_fee_kept",
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
        "next_attempt_at",
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

N = "\\N"  # NULL in COPY text format

_minutes: dict[int, str] = {}


def ts(sec: int) -> str:
    """An epoch second as PostgreSQL timestamptz text; cached per minute because it is called 40M times."""
    m, s = divmod(sec, 60)
    prefix = _minutes.get(m)
    if prefix is None:
        prefix = _minutes[m] = datetime.fromtimestamp(m * 60, UTC).strftime("%Y-%m-%d %H:%M:")
    return f"{prefix}{s:02d}+00"


def ts_forget() -> None:
    """Drop the cached minutes of an earlier load."""
    _minutes.clear()


def _json(value: str) -> str:
    """A JSON string literal for COPY text format (our values hold no backslashes, tabs or newlines)."""
    return '"' + value.replace('"', "'") + '"'


def jdata(**kwargs: str) -> str:
    return "{" + ", ".join(f'"{k}": {_json(v)}' for k, v in kwargs.items()) + "}"


@dataclass
class Counters:
    ids: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        self.ids[table] += 1
        self.rows[table] = self.rows.get(table, 0) + 1
        return self.ids[table]
