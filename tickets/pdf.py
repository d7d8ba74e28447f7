"""PDF tickets: one A6-ish page per valid ticket, rendered by WeasyPrint.

WeasyPrint is imported and its fonts and stylesheet are prepared on first use, once per
process (web processes that never render pay nothing). Rendering never touches the
network or the file system: the URL fetcher accepts only data: URIs, and the QR code is
embedded as one. Rendered PDFs are cached by their content, so a resend renders nothing.

Names come in every script: the stylesheet's font stack names a Noto family for each (the
Debian packages .ci/run and the Dockerfile install), and WeasyPrint embeds only the glyphs
a PDF uses. Each ticket keeps to one page whatever its lengths: the stylesheet wraps and
clamps, and `_printed` shortens extreme texts and picks a smaller size for long ones.
"""

from __future__ import annotations

import hashlib
import json
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string

from organiser_portal.cache import BestEffortCache
from organiser_portal.times import span_text

from .models import Ticket
from .qr import qr_data_uri

if TYPE_CHECKING:
    from orders.models import Order

# Bump when the layout changes: old cached PDFs are then never served again.
LAYOUT_VERSION = "4"
CACHE_SECONDS = 7 * 24 * 3600
CSS_PATH = settings.BASE_DIR / "templates" / "tickets" / "ticket_pdf.css"

_render_lock = threading.Lock()
# A cache outage costs a rendering, never a download or a send.
pdf_cache = BestEffortCache()


@dataclass(frozen=True)
class TicketPage:
    """Everything printed on one ticket's page, as text: also the cache key's content."""

    ticket_id: str
    secret: str
    event_name: str
    starts: str
    ends: str
    time_zone: str
    venue: str
    ticket_type: str
    holder: str
    order_code: str
    organisation: str
    # The ticket type needs the attendee's personal data and nobody has given it yet.
    attendee_unnamed: bool = False
    # Given away at no charge (Order.complimentary): printed on the ticket.
    complimentary: bool = False


@cache
def _weasy() -> tuple[Any, Any, Any, Any]:
    """WeasyPrint's HTML class, a data-only URL fetcher, the font configuration and the parsed stylesheet."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    font_config = FontConfiguration()
    stylesheet = CSS(string=CSS_PATH.read_text(), font_config=font_config, url_fetcher=fetcher)
    return HTML, fetcher, font_config, stylesheet


def warm_up() -> None:
    """Import WeasyPrint and render one page, so the first real ticket is fast (worker start-up)."""
    render_pages([_sample_page()])


def _sample_page() -> TicketPage:
    return TicketPage("ACDEFGHJK", "warm-up", "Warm-up", "", "", "UTC", "", "", "", "", "")


def ticket_pages(order: Order, tickets: Iterable[Ticket]) -> list[TicketPage]:
    event = order.event
    starts, ends = span_text(event.starts_at, event.ends_at, event.tzinfo)
    return [
        TicketPage(
            ticket_id=t.public_id,
            secret=t.secret,
            event_name=event.name,
            starts=starts,
            ends=ends,
            time_zone=event.time_zone,
            venue=event.venue,
            ticket_type=t.ticket_type.name,
            holder=_holder(order, t),
            attendee_unnamed=not t.attendee_name and t.ticket_type.requires_personal_data,
            complimentary=order.complimentary,
            order_code=order.code,
            organisation=order.organisation.name,
        )
        for t in tickets
    ]


def _holder(order: Order, ticket: Ticket) -> str:
    """The attendee; the buyer only where the ticket type never asks who attends."""
    if ticket.attendee_name or ticket.ticket_type.requires_personal_data:
        return ticket.attendee_name
    return order.contact_name


# Beyond these lengths a text could not fit its lines at the smallest size anyway: it is
# cut with an ellipsis here, so the page's other lines never have to give way.
_MAX_CHARS = {"event_name": 150, "venue": 120, "ticket_type": 80, "holder": 90, "organisation": 70}
# Event names longer than these print one and two steps smaller (ticket_pdf.css).
_EVENT_NAME_STEPS = (45, 90)


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Never end on half a letter: a vowel sign or accent without its base, or a joiner.
    while cut and (unicodedata.category(cut[-1]) in ("Mn", "Mc", "Me") or cut[-1] == "\u200d"):
        cut = cut[:-1]
    return cut.rstrip() + "…"


def _printed(page: TicketPage) -> dict[str, Any]:
    """The template's context for one page: the texts as printed, the QR code and the size steps."""
    context: dict[str, Any] = asdict(page)
    for field, limit in _MAX_CHARS.items():
        context[field] = _shortened(context[field], limit)
    context["qr"] = qr_data_uri(page.secret)
    context["event_name_step"] = sum(len(page.event_name) > n for n in _EVENT_NAME_STEPS)
    return context


def printed_pages(order: Order, tickets: Iterable[Ticket]) -> list[dict[str, Any]]:
    """Each ticket as its PDF page prints it (texts, `qr` as a data: URI): also the customer's tickets page."""
    return [_printed(page) for page in ticket_pages(order, tickets)]


def render_pages(pages: Sequence[TicketPage]) -> bytes:
    """Render the pages into one PDF (no cache)."""
    html_class, fetcher, font_config, stylesheet = _weasy()
    html = render_to_string("tickets/ticket_pdf.html", {"pages": [_printed(p) for p in pages]})
    document = html_class(string=html, url_fetcher=fetcher, base_url="data:,")
    # Font configuration objects are not safe to share between threads rendering at once.
    with _render_lock:
        return document.write_pdf(stylesheets=[stylesheet], font_config=font_config)


def _cache_key(pages: Sequence[TicketPage]) -> str:
    content = json.dumps([LAYOUT_VERSION, [asdict(p) for p in pages]], sort_keys=True)
    return "tickets-pdf:" + hashlib.sha256(content.encode()).hexdigest()


def render_pages_cached(pages: Sequence[TicketPage]) -> bytes:
    """The PDF for these pages, from the cache when the same content was rendered before.

    The key is a hash of every printed field, so any change to a ticket, its attendee,
    its type or the event gives a new key; nothing needs invalidating.
    """
    key = _cache_key(pages)
    cached = pdf_cache.get(key)
    if cached is not None:
        return cached
    pdf = render_pages(pages)
    pdf_cache.set(key, pdf, CACHE_SECONDS)
    return pdf


def valid_tickets(order: Order) -> list[Ticket]:
    return list(order.tickets.filter(status=Ticket.Status.VALID).select_related("ticket_type").order_by("id"))


def order_tickets_pdf(order: Order, tickets: Sequence[Ticket] | None = None) -> bytes:
    """One PDF with a page for each of `tickets` (default: every valid ticket of the order)."""
    if tickets is None:
        tickets = valid_tickets(order)
    return render_pages_cached(ticket_pages(order, tickets))


def pdf_filename(order: Order, ticket: Ticket | None = None) -> str:
    return f"tickets-{order.code}-{ticket.public_id}.pdf" if ticket else f"tickets-{order.code}.pdf"
