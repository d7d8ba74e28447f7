"""Run a scenario once per form of the hand-written SQL (organiser_portal.db) on the same data.

Each run happens in a savepoint that is rolled back afterwards, so the second form starts from exactly the
data the first one saw. The SQL each run sent is kept, so a test can show the form it meant really ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from organiser_portal.db import is_postgres, portable_sql

FORMS = ("postgresql", "portable")


@contextmanager
def sql_form(form: str) -> Iterator[None]:
    """The hand-written SQL runs in `form` inside the block (the test database is PostgreSQL)."""
    if form == "portable":
        with portable_sql():
            assert not is_postgres()
            yield
    else:
        assert is_postgres(), "the PostgreSQL form needs the PostgreSQL test database"
        yield


@dataclass
class Run:
    outcome: Any
    sql: list[str]

    def ran(self, fragment: str) -> bool:
        return any(fragment in statement for statement in self.sql)


def run_each_form(scenario: Callable[[], Any]) -> tuple[Run, Run]:
    """(PostgreSQL run, portable run) of `scenario`: what it returned and the SQL it sent, on the same data."""
    runs = []
    for form in FORMS:
        with transaction.atomic():
            with sql_form(form), CaptureQueriesContext(connection) as queries:
                outcome = scenario()
            runs.append(Run(outcome, [query["sql"] for query in queries.captured_queries]))
            transaction.set_rollback(True)
    return runs[0], runs[1]
