"""The shared badges and values of every page, as tags: `{% load portal %}`.

They render what the former templates/components/*.html includes rendered, without an `{% include %}` (a context
push, a template lookup and a node walk) per table cell: the guest list shows 150 of them a page.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from organiser_portal.money import money_format
from organiser_portal.phones import phone_shown
from organiser_portal.times import zone_abbreviation

register = template.Library()

_EMAIL_STATUS_CLASS = {
    "delivered": "text-bg-success",
    "bounced": "text-bg-danger",
    "rejected": "text-bg-danger",
    "failed": "text-bg-danger",
    "complained": "text-bg-danger",
    "deferred": "text-bg-warning",
    "not_sent": "text-bg-light border",
}
_ORDER_STATUS_CLASS = {
    "paid": "text-bg-success",
    "refunded": "text-bg-warning",
    "cancelled": "text-bg-dark",
    "expired": "text-bg-secondary",
}
_HELD = mark_safe(
    ' <span class="badge text-bg-warning" title="Paid, but nothing is sent until someone sends the tickets">'
    "Held for review</span>"
)
_NO_AMOUNT = mark_safe('<span class="money">—</span>')


@register.simple_tag
def email_status_badge(status: str, label: str) -> SafeString:
    """An "Order email status" / message status badge: `{% email_status_badge order.email_status order.get_email_status_display %}`."""
    return format_html('<span class="badge {}">{}</span>', _EMAIL_STATUS_CLASS.get(status, "text-bg-info"), label)


@register.simple_tag
def order_status_badge(order) -> SafeString:
    """An order's status badge, plus "Held for review" when its tickets are held: `{% order_status_badge order %}`."""
    css = _ORDER_STATUS_CLASS.get(order.status, "text-bg-info")
    if order.status == "paid" and order.is_partially_refunded:
        css = "text-bg-warning"
    badge = format_html('<span class="badge {}">{}</span>', css, order.status_label)
    return badge + _HELD if order.tickets_held else badge


@register.simple_tag
def money(amount: Decimal | None, currency: str) -> SafeString:
    """An amount for a table cell, written by `organiser_portal.money` in the current language, with the ISO code:
    `{% money order.total order.currency %}` → "1,234.50 EUR", "1,200 JPY"; "—" for no amount."""
    if amount is None:
        return _NO_AMOUNT
    return format_html('<span class="money">{}</span>', money_format(amount, currency, style="code"))


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz  # ZoneInfo caches its instances by key


@cache
def _date_names(language: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The translated weekday and month abbreviations `|date:"D"` and `|date:"M"` use, per language."""
    return tuple(str(WEEKDAYS_ABBR[d]) for d in range(7)), ("", *(str(MONTHS_3[m]).title() for m in range(1, 13)))


@register.simple_tag
def event_time(when: datetime | None, tz: str | tzinfo) -> SafeString:
    """A moment in the event's time zone, with the zone's abbreviation: `{% event_time event.starts_at event.time_zone %}`.

    The same text as `{% timezone tz %}` with `|date:'c'`, `|date:"D j M Y, H:i"` and `|date:"T"`, built
    directly: Django's date formatter costs ~30 µs a call, and the guest list shows fifty of these.
    """
    if when is None:
        return mark_safe('<time datetime=""></time> <span class="text-secondary small"></span>')
    local = timezone.localtime(when, _zone(tz)) if timezone.is_aware(when) else when
    weekdays, months = _date_names(get_language())
    text = f"{weekdays[local.weekday()]} {local.day} {months[local.month]} {local.year:04d}, {local.hour:02d}:{local.minute:02d}"
    return format_html(
        '<time datetime="{}">{}</time> <span class="text-secondary small">{}</span>',
        local.isoformat(),
        text,
        zone_abbreviation(local),
    )


def _hm(d: datetime) -> str:
    return f"{d.hour:02d}:{d.minute:02d}"


def _weekday(d: datetime) -> str:
    return _date_names(get_language())[0][d.weekday()]


def _dm(d: datetime) -> str:
    return f"{d.day} {_date_names(get_language())[1][d.month]}"


# The `|date` formats the order page uses, built directly (same text): Django's formatter costs ~30 µs a call.
_DATE_FORMATS = {
    "c": lambda d: d.isoformat(),
    "j M, H:i": lambda d: f"{_dm(d)}, {_hm(d)}",
    "j M, H:i:s": lambda d: f"{_dm(d)}, {_hm(d)}:{d.second:02d}",
    "j M Y, H:i": lambda d: f"{_dm(d)} {d.year:04d}, {_hm(d)}",
    "j M Y, H:i T": lambda d: f"{_dm(d)} {d.year:04d}, {_hm(d)} {zone_abbreviation(d)}",
    "D j M Y, H:i": lambda d: f"{_date_names(get_language())[0][d.weekday()]} {_dm(d)} {d.year:04d}, {_hm(d)}",
    # With "T", the zone's label even for the hour a clock change repeats, where `|date:"T"` writes nothing.
    "D j M Y, H:i T": lambda d: f"{_weekday(d)} {_dm(d)} {d.year:04d}, {_hm(d)} {zone_abbreviation(d)}",
    "D j M Y, H:i:s T": lambda d: (
        f"{_weekday(d)} {_dm(d)} {d.year:04d}, {_hm(d)}:{d.second:02d} {zone_abbreviation(d)}"
    ),
}


@register.filter(expects_localtime=True, is_safe=False)
def quick_date(value: datetime | None, arg: str) -> str:
    """`|date:arg` for a datetime (already in the current time zone, like `|date`), without Django's formatter
    for the formats above; any other format or value goes to `|date` itself."""
    build = _DATE_FORMATS.get(arg)
    if value is None or value == "":
        return ""
    if build is None or not isinstance(value, datetime) or timezone.is_naive(value):
        return date_filter(value, arg)
    return build(value)


@register.filter
def phone(value: str, region: str = "") -> str:
    """`{{ order.contact_phone|phone:order.event.phone_region }}`: the number as every page shows it
    (organiser_portal.phones.phone_shown: international format, read in `region`; as typed when it doesn't
    parse); '' for no number, so `|default:"—"` still applies."""
    return phone_shown(value, region) if value else ""
