"""Loading the scale data fast: COPY from a writer thread, indexes dropped and rebuilt, neutral defaults
for the columns the generator doesn't know."""

from __future__ import annotations

import queue
import threading

from .seed_tables import TABLES


class CopyWriter:
    """Streams (table, text) chunks into PostgreSQL with COPY from a background thread."""

    def __init__(self, raw_connection, freeze: bool):
        self.raw = raw_connection
        self.freeze = freeze
        self.queue: queue.Queue = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        cur = self.raw.cursor()
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            table, text = item
            try:
                cols = ", ".join(TABLES[table])
                opts = " WITH (FREEZE)" if self.freeze else ""
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN{opts}") as cp:
                    cp.write(text)
            except BaseException as exc:  # handed to the main thread
                self.error = exc

    def put(self, table: str, lines: list[str]) -> None:
        if self.error is not None:
            raise self.error
        if lines:
            self.queue.put((table, "\n".join(lines) + "\n"))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


# Neutral values for required columns that other features add later and this generator doesn't know.
_NEUTRAL = {"character varying": "''", "text": "''", "boolean": "false", "integer": "0", "smallint": "0"}
_NEUTRAL |= {"bigint": "0", "jsonb": "'{}'::jsonb"}


def fill_unknown_columns(cur) -> list[str]:
    """Give required columns this generator doesn't write a neutral default while loading; return the SQL that undoes it."""
    undo = []
    for table, cols in TABLES.items():
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL",
            [table],
        )
        for column, data_type in cur.fetchall():
            if column in cols:
                continue
            if data_type not in _NEUTRAL:
                raise RuntimeError(
                    f"seed_scale doesn't fill {table}.{column} ({data_type}): add it to bench/seed_tables.py and seed_rows.py"
                )
            cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {_NEUTRAL[data_type]}')
            undo.append(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')
    return undo


def drop_indexes(cur) -> list[str]:
    """Drop every secondary index and unique constraint of the loaded tables; return the SQL that rebuilds them."""
    tables = list(TABLES)
    cur.execute(
        """
        SELECT c.conname, t.relname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE t.relname = ANY(%s) AND c.contype IN ('u', 'x') AND t.relnamespace = current_schema()::regnamespace
        """,
        [tables],
    )
    constraints = cur.fetchall()
    rebuild = [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {d}' for name, t, d in constraints]
    for name, t, _ in constraints:
        cur.execute(f'ALTER TABLE {t} DROP CONSTRAINT "{name}"')
    cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
        """,
        [tables],
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    # Big GIN (trigram) indexes first: they are the slowest to build.
    rebuild += sorted((d for _, d in indexes), key=lambda d: "gin" not in d.lower())
    return rebuild
