"""Load the benchmark data set: `python bench/seed.py --orders 1000000 --seed 1 --replace` (`make bench-data`).

The database comes from DATABASE_URL and must be migrated. The product never imports bench/, so this is
a script rather than a management command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replace", action="store_true", help="Load again over an existing scale organisation.")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from bench.seed_scale import seed_log_path, seed_scale

    try:
        result = seed_scale(orders=args.orders, seed=args.seed, replace=args.replace, log=print)
    except RuntimeError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 1
    for table, n in sorted(result.rows.items()):
        print(f"{table:32} {n:>12,}")
    for step, s in result.seconds.items():
        print(f"{step:32} {s:>10.1f} s")
    # Kept for bench/run.py, which reports how long the data set it measures took to build.
    seed_log_path(connection.settings_dict["NAME"]).write_text(
        json.dumps(
            {
                "orders": args.orders,
                "seed": args.seed,
                "rows": result.rows,
                "seconds": result.seconds,
                "date": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
