"""What database sessions cost the order page, against sessions read through Redis (`cached_db`).

`python bench/sessions.py [--rounds 12]` on a seeded database (`bench/seed.py`), with DEBUG off and
REDIS_URL set: the order page through the test client with each engine, in alternating rounds of 50
requests so that the machine's drift falls on both, then the session read alone. Figures in bench/NOTES.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ENGINES = {"db": "django.contrib.sessions.backends.db", "cached_db": "django.contrib.sessions.backends.cached_db"}
PER_ROUND = 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment

    from bench.common import Ctx, _url

    if settings.DEBUG or not settings.REDIS_URL:
        print("sessions: run with DEBUG off and REDIS_URL set", file=sys.stderr)
        return 1
    setup_test_environment()  # the test client's host and a local email backend
    ctx = Ctx.load(seed=1, samples=20)
    urls = [_url("order_detail", org=ctx.org.slug, code=code) for code in ctx.orders_1 + ctx.orders_10]

    clients: dict[str, Client] = {}
    for name, engine in ENGINES.items():
        # The session middleware picks its engine when the client's handler first loads it.
        with override_settings(SESSION_ENGINE=engine):
            client = Client()
            client.force_login(ctx.user)
            for url in urls:
                assert client.get(url).status_code == 200
            with CaptureQueriesContext(connection) as queries:
                client.get(urls[0])
            print(f"{name:9} queries on the order page: {len(queries.captured_queries)}")
            clients[name] = client

    times: dict[str, list[float]] = {name: [] for name in ENGINES}
    for round_ in range(args.rounds):
        order = list(ENGINES.items()) if round_ % 2 == 0 else list(reversed(ENGINES.items()))
        for name, engine in order:
            with override_settings(SESSION_ENGINE=engine):
                for i in range(PER_ROUND):
                    started = time.perf_counter()
                    response = clients[name].get(urls[i % len(urls)])
                    times[name].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
    for name, values in times.items():
        values.sort()
        p95 = values[int(len(values) * 0.95)]
        print(f"{name:9} order page, n={len(values)}: median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms")

    for name, engine in ENGINES.items():
        store = import_module(engine).SessionStore
        key = clients[name].cookies[settings.SESSION_COOKIE_NAME].value
        loads = []
        for _ in range(1000):
            started = time.perf_counter()
            store(key).load()
            loads.append((time.perf_counter() - started) * 1000)
        print(f"{name:9} session read alone: median {statistics.median(loads):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
