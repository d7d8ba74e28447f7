"""`manage.py seed_scale --orders 1000000 --seed 1`: the benchmark data set (see bench/seed_scale.py)."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from bench.seed_scale import seed_scale


def seed_log_path(database: str):
    """One log per database, so a small seed into another database never passes for the measured data set."""
    return settings.BASE_DIR / "var" / f"seed_scale_{database}.json"


class Command(BaseCommand):
    help = "Fill PostgreSQL with one organisation of N orders and everything around them, for the benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--replace", action="store_true", help="Load again over an existing scale organisation.")

    def handle(self, *args, orders: int, seed: int, replace: bool, **options):
        try:
            result = seed_scale(orders=orders, seed=seed, replace=replace, log=self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        for table, n in sorted(result.rows.items()):
            self.stdout.write(f"{table:32} {n:>12,}")
        for step, s in result.seconds.items():
            self.stdout.write(f"{step:32} {s:>10.1f} s")
        # Kept for bench/run.py, which reports how long the data set it measures took to build.
        seed_log_path(connection.settings_dict["NAME"]).write_text(
            json.dumps(
                {
                    "orders": orders,
                    "seed": seed,
                    "rows": result.rows,
                    "seconds": result.seconds,
                    "date": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
                },
                indent=2,
            )
        )
