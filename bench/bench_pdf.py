"""PDF tickets per second, warm, for 1-ticket and 10-ticket orders; every PDF is checked for its ticket IDs.

    .venv/bin/python bench/bench_pdf.py [--rounds 30]

Needs no database: it renders pages built in memory through tickets.pdf.render_pages (no cache),
then shows what the content cache makes of a resend. Targets (warm): ≤ 50 ms for one ticket,
≤ 400 ms for ten.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "bench-hook:bench-only-webhook-password")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.pop("REDIS_URL", None)  # the in-memory cache: the figures are about rendering


def main() -> int:
    import django

    django.setup()
    from pypdf import PdfReader

    from organiser_portal.codes import new_order_code, new_secret, new_ticket_id
    from tickets import pdf

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    def pages(n: int) -> list[pdf.TicketPage]:
        code = new_order_code()
        return [
            pdf.TicketPage(
                ticket_id=new_ticket_id(),
                secret=new_secret(),
                event_name="Summer Festival 2026 — Open Air",
                starts="Saturday 4 July 2026, 18:00",
                ends="23:30",
                time_zone="Europe/Berlin",
                venue="Stadtpark, Hamburg",
                ticket_type="General admission",
                holder="Anna Müller",
                order_code=code,
                organisation="Festival GmbH",
            )
            for _ in range(n)
        ]

    def check(content: bytes, batch: list[pdf.TicketPage]) -> None:
        reader = PdfReader(BytesIO(content))
        assert len(reader.pages) == len(batch), "one page per ticket"
        for page, ticket in zip(reader.pages, batch):
            assert ticket.ticket_id in page.extract_text(), f"ticket ID {ticket.ticket_id} missing"

    started = time.perf_counter()
    pdf.warm_up()
    print(f"warm-up (import WeasyPrint, fonts, stylesheet, first render): {time.perf_counter() - started:.2f} s")
    failures = 0
    for n, target_ms in ((1, 50), (10, 400)):
        times = []
        for _ in range(args.rounds):
            batch = pages(n)
            gc.collect()  # the checks' garbage is not the renderer's cost
            t0 = time.perf_counter()
            content = pdf.render_pages(batch)
            times.append(time.perf_counter() - t0)
            check(content, batch)
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        ok = median * 1000 <= target_ms
        failures += not ok
        print(
            f"{n:>2}-ticket order: median {median * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms "
            f"→ {n / median:6.1f} tickets/s, {1 / median:5.1f} orders/s  (target ≤ {target_ms} ms: {'ok' if ok else 'FAIL'})"
        )
    batch = pages(1)
    first = pdf.render_pages_cached(batch)
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        assert pdf.render_pages_cached(batch) == first
    print(f"resend of a rendered PDF (content cache hit): {(time.perf_counter() - t0) / args.rounds * 1000:.2f} ms")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
