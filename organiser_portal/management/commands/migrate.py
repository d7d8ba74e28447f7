"""`migrate` with PostgreSQL's statement and lock timeouts lifted (organiser_portal/db_timeouts.py): a migration
that builds an index or backfills a million rows is not cut by the timeouts that protect the web tier."""

from typing import Any

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from organiser_portal.db_timeouts import timeouts_lifted


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        with timeouts_lifted(connections[options["database"]]):
            super().handle(*args, **options)
