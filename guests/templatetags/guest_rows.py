"""The rows of the guest list and of the search results, as tags: `{% load guest_rows %}`.

A row is built here in one `format_html` rather than cell by cell in the template, as Django admin's change
list builds its rows: the guest list shows fifty rows a page, and the template engine spent ~0.15 ms on
each (7.3 ms of a page's CPU for the table; ~1.5 ms this way). The cells are the portal tags' badges and
times, so a row reads the same as the rest of the portal.
"""

from __future__ import annotations

import html

from django import template
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from notifications.models import MessageStatus
from organiser_portal.phones import phone_shown
from organiser_portal.templatetags.portal import email_status_badge, event_time, order_status_badge

register = template.Library()

# The address the guest probably meant and the link to fix it: the order page's bounce banner renders it too.
SUGGESTION = "orders/_email_suggestion.html"


def _badges(order) -> tuple[SafeString, SafeString]:
    return order_status_badge(order), email_status_badge(order.email_status, order.email_status_label)


@register.simple_tag
def guest_list_row(order, time_zone: str, selectable: bool = False) -> SafeString:
    """An event's guest-list row: guest (linked to the customer account), email, order, tickets, statuses, created;
    with `selectable`, first a checkbox that ticks the order for a bulk send (the form `bulk-form`).

    Needs `order.detail_url`, `order.customer_url` (guests.views._attach_row_urls) and `order.ticket_count`.
    """
    guest = (
        format_html('<a href="{}">{}</a>', order.customer_url, order.contact_name)
        if order.customer_id
        else order.contact_name
    )
    status, email_status = _badges(order)
    tick = (
        format_html(
            '<td class="card-first"><input class="form-check-input" type="checkbox" name="order" value="{}" form="bulk-form" '
            'aria-label="Select order {}"></td>',
            order.pk,
            order.code,
        )
        if selectable
        else ""
    )
    return format_html(
        '<tr>{}<td class="card-key">{}</td><td class="text-break card-line">{}</td>'
        '<td class="card-first"><a class="fw-semibold" href="{}"><code>{}</code></a></td>'
        '<td class="text-end" data-label="Tickets">{}</td><td class="card-key">{}</td>'
        '<td class="card-key"><span id="email-status-{}">{}</span></td><td class="text-nowrap" data-label="Created">{}</td></tr>',
        tick,
        guest,
        order.contact_email,
        order.detail_url,
        order.code,
        order.ticket_count,
        status,
        order.code,
        email_status,
        event_time(order.created_at, time_zone),
    )


@register.simple_tag
def search_order_row(order) -> SafeString:
    """A search result's order row: order, guest, email, event, statuses, created (in the event's time zone)."""
    status, email_status = _badges(order)
    return format_html(
        '<tr><td class="card-first"><a class="fw-semibold" href="{}"><code>{}</code></a></td><td class="card-key">{}</td>'
        '<td class="text-break card-line">{}</td><td data-label="Event">{}</td><td class="card-key">{}</td>'
        '<td class="card-key">{}</td><td class="text-nowrap" data-label="Created">{}</td></tr>',
        order.detail_url,
        order.code,
        order.contact_name,
        order.contact_email,
        order.event.name,
        status,
        email_status,
        event_time(order.created_at, order.event.time_zone),
    )


@register.simple_tag
def search_customer_row(customer, region: str = "") -> SafeString:
    """A search result's customer-account row: name, email, phone (as every page shows it, read in `region`: the
    organisation's country), whether the account is verified."""
    verified = (
        mark_safe('<span class="badge text-bg-success">Verified</span>')
        if customer.verified
        else mark_safe('<span class="badge text-bg-light border">Not verified</span>')
    )
    return format_html(
        '<tr><td><a class="fw-semibold" href="{}">{}</a></td><td class="text-break card-line">{}</td>'
        '<td data-label="Phone">{}</td><td>{}</td></tr>',
        customer.detail_url,
        customer.name,
        customer.email,
        phone_shown(customer.phone, region) if customer.phone else "—",
        verified,
    )


@register.simple_tag
def orders_list_row(order) -> SafeString:
    """The Orders list's row: guest, email, order, event (linked to its guest list), tickets, statuses, created.

    Needs `detail_url`, `customer_url`, `event_url` (guests.views._attach_row_urls) and `ticket_count`.
    """
    guest = (
        format_html('<a href="{}">{}</a>', order.customer_url, order.contact_name)
        if order.customer_id
        else order.contact_name
    )
    status, email_status = _badges(order)
    return format_html(
        '<tr><td class="card-key">{}</td><td class="text-break card-line">{}</td>'
        '<td class="card-first"><a class="fw-semibold" href="{}"><code>{}</code></a></td>'
        '<td data-label="Event"><a href="{}">{}</a></td><td class="text-end" data-label="Tickets">{}</td>'
        '<td class="card-key">{}</td><td class="card-key"><span id="email-status-{}">{}</span></td>'
        '<td class="text-nowrap" data-label="Created">{}</td></tr>',
        guest,
        order.contact_email,
        order.detail_url,
        order.code,
        order.event_url,
        order.event.name,
        order.ticket_count,
        status,
        order.code,
        email_status,
        event_time(order.created_at, order.event.time_zone),
    )


def _e(value: object) -> str:
    """HTML-escaped text, as Django's `escape` writes it (the same `html.escape`), without its lazy-string wrapper:
    an at-risk page escapes some five hundred values."""
    return value if isinstance(value, SafeString) else html.escape(str(value))


@register.simple_tag
def at_risk_rows(rows, time_zone: str, can_fix: bool, can_personalise: bool) -> SafeString:
    """The at-risk list's rows (guests.at_risk.AtRiskRow): guest, order, why, the latest tickets email, and the
    fixes this role may use. Needs `row.order.detail_url` and each row's `fix_url`, `resend_url`, `sms_url`,
    `personalise_url`
    (guests.views.event_at_risk). One tag for the page: a template loop with a tag per row cost more than the rows.
    On a phone (portal.css, table-cards) a row is a card: the order, the guest, why and the fix first."""
    return mark_safe("".join(_at_risk_row(row, time_zone, can_fix, can_personalise) for row in rows))


def _at_risk_row(row, time_zone: str, can_fix: bool, can_personalise: bool) -> str:
    order, message, reasons = row.order, row.message, row.reasons
    why = "".join(f'<span class="badge text-bg-danger me-1">{_e(words)}</span>' for words in row.reason_words)
    if message:
        status_reason = (
            f'<div class="text-secondary">{_e(message.status_reason)}</div>' if message.status_reason else ""
        )
        email = (
            f"{_e(MessageStatus(message.status).label)} · {_e(message.recipient)}{status_reason}"
            f'<div class="text-secondary">{event_time(message.status_at, time_zone)}</div>'
        )
    else:
        email = "—"
    fixes = []
    if row.email_problem and can_fix:
        if suggestion := row.email_suggestion:
            # The order page's bounce banner's words and link (one template for both), to the same fix page.
            context = {"suggestion": suggestion, "fix_url": row.fix_url, "button": "btn-primary"}
            fixes.append(get_template(SUGGESTION).render(context).strip())
        elif "bounced" in reasons or "rejected" in reasons:
            fixes.append(f'<a class="btn btn-sm btn-primary" href="{_e(row.fix_url)}">Fix the address and resend</a>')
        elif "deferred" in reasons:
            fixes.append(
                f'<a class="btn btn-sm btn-primary" href="{_e(row.resend_url)}?send_to=other">Resend to another address</a>'
            )
        else:
            fixes.append(f'<a class="btn btn-sm btn-primary" href="{_e(row.resend_url)}">Resend</a>')
        if order.contact_phone:
            fixes.append(f'<a class="btn btn-sm btn-outline-primary" href="{_e(row.sms_url)}">Send by SMS</a>')
    if "data_missing" in reasons and can_personalise:
        fixes.append(
            f'<a class="btn btn-sm btn-outline-primary" href="{_e(row.personalise_url)}">Open personalisation</a>'
        )
    if not can_fix and not can_personalise:
        fixes.append('<span class="small text-secondary">Ask support</span>')
    return (
        f'<tr><td class="card-key">{_e(order.contact_name)}'
        f'<div class="small text-secondary text-break">{_e(order.contact_email)}</div></td>'
        f'<td class="card-first"><a class="fw-semibold" href="{_e(order.detail_url)}"><code>{_e(order.code)}</code></a></td>'
        f'<td class="card-key">{why}</td><td class="small card-line" data-label="Latest tickets email">{email}</td>'
        f'<td class="text-nowrap card-key card-line at-risk-fix">{" ".join(fixes)}</td></tr>'
    )
