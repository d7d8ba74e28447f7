"""Worker memory over many PDF renders: RSS of one warm process rendering 10,000 distinct ticket PDFs.

    .venv/bin/python bench/bench_memory.py [--renders 10000] [--every 1000] [--check-every 500]

Every render goes through the real code (`tickets.pdf.render_pages`: template, QR code, WeasyPrint
with the process's shared font configuration and stylesheet) with different ticket content (ticket
ID, secret, holder, order code), so nothing comes from the content cache and WeasyPrint sees a new
QR image each time. No database needed. The script checks its own output: every `--check-every`th
PDF's text must contain that ticket's ID and holder (exit 1 when one doesn't). The last line gives
the growth and its verdict against `--limit-mb` (target: < 50 MB over 10,000 renders).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "bench-hook:bench-only-webhook-password")
os.environ.setdefault("LOG_LEVEL", "WARNING")

# Ticket-ID alphabet (no 0/O, 1/I/L …), as codes.py draws them; a counter in it keeps IDs distinct.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def rss_mb() -> float:
    """Resident set size now (not the peak), from /proc."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def ticket_id(n: int) -> str:
    digits = []
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "".join(reversed(digits))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1000, help="report RSS every N renders")
    parser.add_argument("--check-every", type=int, default=500, help="check every Nth PDF's text")
    parser.add_argument("--limit-mb", type=float, default=50.0)
    args = parser.parse_args()

    import django

    django.setup()
    from pypdf import PdfReader

    from tickets.pdf import TicketPage, render_pages, warm_up

    t0 = time.perf_counter()
    warm_up()
    gc.collect()
    start = rss_mb()
    print(f"warm-up {time.perf_counter() - t0:.2f} s; RSS at start: {start:.1f} MB", flush=True)
    checked = 0
    t0 = time.perf_counter()
    for i in range(1, args.renders + 1):
        page = TicketPage(
            ticket_id=ticket_id(1_000_000 + i),
            secret=f"s{i:026d}",
            event_name="Memory Festival",
            starts="Saturday 1 August 2026, 18:00",
            ends="23:00",
            time_zone="Europe/Berlin",
            venue="Hall 1",
            ticket_type="General admission",
            holder=f"Attendee {i}",
            order_code=f"M{i:07d}",
            organisation="Memory bench",
        )
        pdf = render_pages([page])
        if i % args.check_every == 0 or i == 1:
            text = PdfReader(BytesIO(pdf)).pages[0].extract_text()
            if page.ticket_id not in text or page.holder not in text:
                print(f"WRONG: PDF {i} doesn't show ticket ID {page.ticket_id} and holder {page.holder!r}")
                return 1
            checked += 1
        if i % args.every == 0 or i == args.renders:
            rate = i / (time.perf_counter() - t0)
            print(
                f"after {i:6,} renders: RSS {rss_mb():7.1f} MB ({rss_mb() - start:+6.1f} MB)  {rate:5.1f} PDFs/s",
                flush=True,
            )
    gc.collect()
    end = rss_mb()
    growth = end - start
    ok = growth < args.limit_mb
    print(f"{checked} PDFs checked: each shows its ticket ID and holder")
    print(
        f"RSS growth over {args.renders:,} renders: {growth:.1f} MB (start {start:.1f} MB, end {end:.1f} MB;"
        f" target < {args.limit_mb:g} MB: {'ok' if ok else 'FAIL'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
