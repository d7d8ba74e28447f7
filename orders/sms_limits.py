"""SMS sending limits: how many tickets SMS one order, and one number across the organisation, may get.

An SMS costs money and a number typed in once can be abused (toll fraud: texts pumped to premium numbers; or one
person's phone flooded). So a tickets SMS is refused past SMS_LIMIT_PER_ORDER_HOUR / SMS_LIMIT_PER_ORDER_DAY for
its order and SMS_LIMIT_PER_NUMBER_DAY for its number in the organisation (README "SMS"; 0 switches one off).

The limits count the SMS messages already written (OutgoingMessage rows of channel "sms", whatever became of
them: a failed SMS may still have cost), in rolling windows, inside the sending action's transaction: exact, and
independent of Redis. The order's row lock serialises sends for one order; `sms_number_lock` adds a transaction
lock on the number so that two orders sending to one number at once count each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import OutgoingMessage
from organiser_portal.phones import phone_international
from organiser_portal.times import local_text

from .models import Order

# The first key of the number's advisory lock (pg_advisory_xact_lock(int, int)): this module's own space.
NUMBER_LOCK_SPACE = 0x534D53  # "SMS"


@dataclass(frozen=True)
class SmsLimit:
    """One limit: at most `most` SMS in `window`; `setting` is the setting that sets it."""

    setting: str
    most: int
    window: timedelta
    window_words: str


def order_limits() -> list[SmsLimit]:
    """The per-order limits in force (settings; 0 is none)."""
    limits = [
        SmsLimit("SMS_LIMIT_PER_ORDER_HOUR", settings.SMS_LIMIT_PER_ORDER_HOUR, timedelta(hours=1), "hour"),
        SmsLimit("SMS_LIMIT_PER_ORDER_DAY", settings.SMS_LIMIT_PER_ORDER_DAY, timedelta(days=1), "24 hours"),
    ]
    return [limit for limit in limits if limit.most > 0]


def number_limits() -> list[SmsLimit]:
    """The per-number limits in force, across the organisation (settings; 0 is none)."""
    limit = SmsLimit("SMS_LIMIT_PER_NUMBER_DAY", settings.SMS_LIMIT_PER_NUMBER_DAY, timedelta(days=1), "24 hours")
    return [limit] if limit.most > 0 else []


def _frees_at(sent_at: Iterable[datetime], limit: SmsLimit, now: datetime) -> datetime | None:
    """None when one more SMS stays within `limit`, given when the SMS counted were written (`sent_at`, any order);
    else when it will: once the `most`-th latest leaves the window, from the next whole minute."""
    latest = sorted((at for at in sent_at if at > now - limit.window), reverse=True)[: limit.most]
    return _next_minute(latest[-1] + limit.window) if len(latest) >= limit.most else None


def _next_minute(when: datetime) -> datetime:
    """`when` rounded up to the minute: the refusal shows hours and minutes, and at the minute it names an SMS
    may go (rounded down, "from 19:52" would still refuse at 19:52:10)."""
    minute = when.replace(second=0, microsecond=0)
    return minute if minute == when else minute + timedelta(minutes=1)


def _sent_at(sent: QuerySet[OutgoingMessage], limits: list[SmsLimit], now: datetime) -> list[datetime]:
    """When the SMS of `sent` that `limits` may count were written, newest first: those inside the widest window,
    at most the largest `most` of them (the newest rows of a narrower window are among those)."""
    if not limits:
        return []
    since = now - max(limit.window for limit in limits)
    rows = sent.filter(created_at__gt=since).order_by("-created_at").values_list("created_at", flat=True)
    return list(rows[: max(limit.most for limit in limits)])


def sms_number_lock(*, organisation_id: int, number: str) -> None:
    """Lock `number` (E.164) for SMS sends of the organisation until the transaction ends, so two orders sending
    to it at once count each other's SMS (`sms_limit_refusal`). Call after locking the order row."""
    if connection.vendor != "postgresql":
        return  # SQLite (the embedded default) lets one transaction write at a time anyway
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [NUMBER_LOCK_SPACE, f"{organisation_id}:{number}"]
        )


def _latest_frees_at(
    sent_at: list[datetime], limits: list[SmsLimit], now: datetime
) -> tuple[SmsLimit, datetime] | None:
    """Of `limits`, the one passed that frees up last, and when: an SMS may go only once every limit has room, so
    the refusal names that one (an hour's limit freeing up sooner would promise a time the day's still refuses)."""
    passed = [(limit, frees_at) for limit in limits if (frees_at := _frees_at(sent_at, limit, now))]
    return max(passed, key=lambda passed_at: passed_at[1]) if passed else None


def _order_refusal(order: Order, sent_at: list[datetime], now: datetime) -> tuple[datetime, str] | None:
    if not (passed := _latest_frees_at(sent_at, order_limits(), now)):
        return None
    limit, frees_at = passed
    return frees_at, (
        f"This order already had {limit.most} SMS in the last {limit.window_words}, the most allowed. "
        f"The next SMS can be sent from {local_text(frees_at, order.event.tzinfo)}."
    )


def sms_order_limit_refusal(*, order: Order, now: datetime | None = None) -> str:
    """Why the order may have no more tickets SMS for now, whatever the number (a per-order limit, and when it may
    again, on the event's clock); "" when it may. The dialog says it before a number is typed. One query over the
    order's messages, none when no per-order limit is in force."""
    now = now or timezone.now()
    limits = order_limits()
    sms = OutgoingMessage.objects.filter(channel=OutgoingMessage.Channel.SMS, order=order)
    return order_sms_refusal(order=order, sms_sent_at=_sent_at(sms, limits, now), now=now)


def order_sms_refusal(*, order: Order, sms_sent_at: Iterable[datetime], now: datetime | None = None) -> str:
    """`sms_order_limit_refusal` from when the order's SMS were written (`sms_sent_at`, any order; at least those of
    the last day), read by the caller: no query. The order page's ⋯ menu passes the messages it has already read
    (OrderDetail.sms_sent_at), so the item says the dialog's words at no cost."""
    refusal = _order_refusal(order, list(sms_sent_at), now or timezone.now())
    return refusal[1] if refusal else ""


def sms_limit_refusal(*, order: Order, number: str, now: datetime | None = None) -> str:
    """Why one more tickets SMS of `order` to `number` (E.164) would pass a limit, naming the limit and when an SMS
    may be sent again (on the event's clock); "" when it may be sent. Past limits of both the order and the number,
    the one that frees up last.

    The sending service asks inside its transaction, with the order row and the number (`sms_number_lock`)
    locked, so the SMS it writes is counted by every later check; the dialog asks before the confirmation."""
    now = now or timezone.now()
    sms = OutgoingMessage.objects.filter(channel=OutgoingMessage.Channel.SMS)
    refusals = []
    limits = order_limits()
    if refusal := _order_refusal(order, _sent_at(sms.filter(order=order), limits, now), now):
        refusals.append(refusal)
    limits = number_limits()
    sent_at = _sent_at(sms.filter(organisation_id=order.organisation_id, recipient=number), limits, now)
    if passed := _latest_frees_at(sent_at, limits, now):
        limit, frees_at = passed
        refusals.append(
            (
                frees_at,
                f"{phone_international(number)} already had {limit.most} SMS from this organisation in the last "
                f"{limit.window_words}, the most allowed. The next SMS to it can be sent from "
                f"{local_text(frees_at, order.event.tzinfo)}.",
            )
        )
    return max(refusals, key=lambda refusal: refusal[0])[1] if refusals else ""
