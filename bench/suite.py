"""The benchmarks of issue 5, each a function that measures one figure and checks its own answer.

Every benchmark takes a `Ctx` (the scale organisation, a logged-in support agent, sample
orders chosen from the data with a seeded RNG, ground truth computed with plain SQL that
does not go through the code under test) and an iteration count, and returns a `Result`.
A fast wrong answer fails: each request's response is checked (the search finds the
expected order, the order page shows every ticket ID, the guest list shows the expected
rows). A feature that doesn't exist yet is reported as skipped ("not built yet"), never faked.
"""

from __future__ import annotations

from collections.abc import Callable

from .actions import bench_order_actions
from .before_doors import bench_at_risk, bench_bulk_send
from .common import Result
from .lists import bench_lists
from .machines import bench_scanner, bench_webhooks
from .pages import bench_guest_list, bench_order_detail, bench_order_detail_load
from .scripts import bench_email, bench_import, bench_pdf, bench_pdf_memory
from .search import bench_search
from .storm import bench_webhook_storm

BENCHMARKS: dict[str, Callable[..., list[Result]]] = {
    "order_detail": bench_order_detail,
    "order_detail_load": bench_order_detail_load,
    "search": bench_search,
    "guest_list": bench_guest_list,
    "lists": bench_lists,
    "pdf": bench_pdf,
    "pdf_memory": bench_pdf_memory,
    "email": bench_email,
    "webhooks": bench_webhooks,
    "webhook_storm": bench_webhook_storm,
    "scanner": bench_scanner,
    "order_actions": bench_order_actions,
    "at_risk": bench_at_risk,
    "bulk_send": bench_bulk_send,
    "import": bench_import,
}
