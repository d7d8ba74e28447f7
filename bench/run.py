"""Run the benchmark suite against the scale data and write bench/results.json and bench/RESULTS.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/run.py
    python bench/run.py --only search,guest_list --iterations 20

The database must hold the scale organisation (`python bench/seed.py --orders 1000000 --seed 1`).
Runs with DEBUG off, as production does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMAND = "make bench  # = DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/run.py"
SEED_COMMAND = "DATABASE_URL=… .venv/bin/python bench/seed.py --orders 1000000 --seed 1 --replace"


def _setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "bench-hook:bench-only-webhook-password")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _proc_field(path: str, prefix: str) -> str:
    try:
        with open(path) as f:
            return next((line for line in f if line.startswith(prefix)), "")
    except OSError:
        return ""


def machine() -> dict[str, object]:
    from django import get_version
    from django.db import connection

    cpu = _proc_field("/proc/cpuinfo", "model name").split(":", 1)[-1].strip()
    mem = _proc_field("/proc/meminfo", "MemTotal").split()
    mem_gb = round(int(mem[1]) / 1024 / 1024, 1) if len(mem) > 1 else 0.0
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    dirty = bool(_sh("git", "status", "--porcelain", "--untracked-files=no"))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": get_version(),
        "postgresql": pg,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Other work on the machine skews the figures: the 1/5/15-minute load when the run ended.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "commit": _sh("git", "rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if dirty else ""),
    }


def data_set() -> dict[str, int]:
    from django.db import connection

    from bench.seed_tables import TABLES

    counts = {}
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    return counts


PLAN_TABLES = ("orders_order", "guests_customer", "tickets_ticket")


def query_plans(ctx, limit_per_page: int = 4) -> list[dict[str, str]]:
    """EXPLAIN ANALYZE of the queries the search and guest-list pages run (the real SQL, captured)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.pages import GUEST_LIST_VARIANTS, _guest_list_targets
    from bench.search import SEARCH_KINDS, _search_targets

    pages: list[tuple[str, str]] = []
    for kind in SEARCH_KINDS:
        try:
            pages.append((f"search: {kind}", _search_targets(ctx, kind, n=1)[0][0]))
        except Exception as exc:
            pages.append((f"search: {kind}", f"(no sample: {exc})"))
    for variant in GUEST_LIST_VARIANTS:
        try:
            pages.append((f"guest list: {variant}", _guest_list_targets(ctx, variant)[0][0]))
        except Exception as exc:
            pages.append((f"guest list: {variant}", f"(no sample: {exc})"))
    plans = []
    for label, url in pages:
        if not url.startswith("/"):
            plans.append({"page": label, "url": url, "sql": "", "plan": ""})
            continue
        with CaptureQueriesContext(connection) as captured:
            ctx.client.get(url)
        interesting = [
            q["sql"]
            for q in captured.captured_queries
            # The search's own planner estimates (EXPLAIN …) are not the queries that read the rows.
            if any(f'"{t}"' in q["sql"] for t in PLAN_TABLES) and not q["sql"].startswith("EXPLAIN")
        ]
        for sql in interesting[:limit_per_page]:
            try:
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cur.fetchall())
            except Exception as exc:  # a plan is documentation: it must not cost the whole run's figures
                plan = f"(EXPLAIN failed: {exc})"
            plans.append({"page": label, "url": url, "sql": sql, "plan": plan})
    return plans


def run(only: list[str] | None, iterations: int | None, duration: int) -> dict[str, object]:
    from django.core.exceptions import ObjectDoesNotExist

    from bench import common, suite

    try:
        ctx = common.Ctx.load()
    except ObjectDoesNotExist:
        sys.exit("No scale data in this database: run `make bench-data` (bench/seed.py) first.")
    results: list[dict[str, object]] = []
    for name, bench in suite.BENCHMARKS.items():
        if only and name not in only:
            continue
        print(f"→ {name}", flush=True)
        kwargs: dict[str, int] = {}
        if iterations and name in ("order_detail", "search", "guest_list", "lists", "at_risk"):
            kwargs["iterations"] = iterations
        if name in ("order_detail_load", "scanner", "webhook_storm"):
            kwargs["duration"] = duration
        t = time.perf_counter()
        try:
            got = bench(ctx, **kwargs)
        except common.NotBuilt as exc:
            got = [common.Result(name, name, "", status="skipped", note=f"not built yet: {exc}")]
        except Exception as exc:
            traceback.print_exc()
            got = [common.Result(name, name, "", status="error", correct=False, passed=False, note=repr(exc)[:500])]
        for r in got:
            print(
                f"   {r.status:7} {r.name}: median {r.median} p95 {r.p95} value {r.value} queries {r.queries} {r.note}"
            )
        results.extend(r.as_dict() for r in got)
        print(f"   ({time.perf_counter() - t:.1f} s)", flush=True)
    plans = query_plans(ctx) if not only or {"search", "guest_list"} & set(only) else []
    from django.db import connection

    from bench.seed_scale import seed_log_path

    seed_log = seed_log_path(connection.settings_dict["NAME"])
    seed = json.loads(seed_log.read_text()) if seed_log.exists() else None
    return {
        "machine": machine(),
        "command": COMMAND,
        "seed_command": SEED_COMMAND,
        "data_set": data_set(),
        "seed_run": seed,
        "results": results,
        "plans": plans,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated benchmark names: " + "order_detail,search,…")
    parser.add_argument(
        "--iterations", type=int, help="requests per figure (default 200 for search, 60 / 40 for pages and lists)"
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk load")
    parser.add_argument("--out", default=str(ROOT / "bench"), help="directory for results.json and RESULTS.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from results.json and NOTES.md")
    args = parser.parse_args()
    _setup_django()
    from bench.report import write_markdown

    out = Path(args.out)
    if args.report_only:
        report = json.loads((out / "results.json").read_text())
    else:
        only = args.only.split(",") if args.only else None
        report = run(only, args.iterations, args.duration)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    notes = ROOT / "bench" / "NOTES.md"
    write_markdown(report, out / "RESULTS.md", notes.read_text() if notes.exists() else "")
    print(f"wrote {out / 'results.json'} and {out / 'RESULTS.md'}")
    results: list[dict[str, object]] = report["results"]
    failed = [r for r in results if r["status"] in ("fail", "error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
