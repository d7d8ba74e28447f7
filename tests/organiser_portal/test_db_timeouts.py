"""PostgreSQL's statement and lock timeouts: every connection has them (DB_STATEMENT_TIMEOUT, DB_LOCK_TIMEOUT),
so a stuck row fails one request instead of holding the web tier; `manage.py migrate` runs without them."""

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import pre_migrate

from tests import production

pytestmark = pytest.mark.django_db


def timeouts() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()[0]
        cursor.execute("SHOW lock_timeout")
        return statement, cursor.fetchone()[0]


def test_every_connection_has_the_default_timeouts():
    assert timeouts() == ("30s", "10s")


def test_the_settings_read_them_from_the_environment():
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['OPTIONS']['options'])",
        ],
        cwd=production.ROOT,
        env=production.bare_env(
            DJANGO_SETTINGS_MODULE="organiser_portal.settings",
            DEBUG="1",
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/any",
            DB_STATEMENT_TIMEOUT="2.5",
            DB_LOCK_TIMEOUT="0",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout.strip() == "-c statement_timeout=2500 -c lock_timeout=0", shown.stderr


def test_migrate_runs_without_them_and_gives_them_back():
    seen = []

    def during_migrate(**kwargs):
        if not seen:
            seen.append(timeouts())

    pre_migrate.connect(during_migrate, dispatch_uid="test_db_timeouts")
    try:
        call_command("migrate", verbosity=0)
    finally:
        pre_migrate.disconnect(dispatch_uid="test_db_timeouts")
    assert seen == [("0", "0")]
    assert timeouts() == ("30s", "10s")
