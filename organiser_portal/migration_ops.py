"""Migration operations that only apply on PostgreSQL, so the embedded SQLite default still migrates."""

from django.db import migrations, transaction

from .matching import name_key
from .phones import phone_e164


class PostgresOnlySQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(table: str, column: str) -> PostgresOnlySQL:
    """A GIN trigram index on UPPER(column): what `icontains` and upper-cased similarity compare against."""
    name = f"{table}_{column}_trgm"
    return PostgresOnlySQL(
        sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)",
        reverse_sql=f"DROP INDEX IF EXISTS {name}",
    )


def trigram_index_plain(table: str, column: str) -> PostgresOnlySQL:
    """A GIN trigram index on a column stored folded already (a `name_key`): what `contains` (LIKE) reads."""
    name = f"{table}_{column}_trgm"
    return PostgresOnlySQL(
        sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({column}::text) gin_trgm_ops)",
        reverse_sql=f"DROP INDEX IF EXISTS {name}",
    )


def reversed_sql(operation: PostgresOnlySQL) -> PostgresOnlySQL:
    """The operation undone: to drop what an earlier migration added (and add it back on the way down)."""
    assert operation.reverse_sql is not None, "an operation without its undoing can't be reversed"
    return PostgresOnlySQL(sql=operation.reverse_sql, reverse_sql=operation.sql)


def search_words_column(table: str, name_column: str, email_column: str) -> PostgresOnlySQL:
    """A stored tsvector `search_words` of a row's name and of its email address before the @, GIN-indexed.

    "Anna-Lena Müller", "al.mueller_57@…" → anna-lena anna lena müller al mueller 57: the words the
    search box matches from their beginning (guests.search). Stored rather than an expression index so
    the planner keeps statistics on the words and a scan in date order pays a cheap `@@` per row instead
    of parsing the name again: a common surname then fills its page from the newest orders (~3 ms at a
    million orders), a rare one comes from the index.
    """
    words = (
        f"to_tsvector('simple', {name_column}::text || ' ' || "
        f"translate(split_part({email_column}::text, '@', 1), '._+-', '    '))"
    )
    return PostgresOnlySQL(
        sql=[
            f"ALTER TABLE {table} ADD COLUMN search_words tsvector GENERATED ALWAYS AS ({words}) STORED",
            f"CREATE INDEX {table}_search_words ON {table} USING gin (search_words)",
        ],
        reverse_sql=[f"ALTER TABLE {table} DROP COLUMN search_words"],
    )


def search_keys_backfill(
    *,
    table: str,
    name_column: str,
    phone_column: str,
    phone_key: str,
    country_sql: str,
    joins: str,
    batch: int = 10_000,
    only_where: tuple[str, list[str]] = ("", []),
) -> migrations.RunPython:
    """Write `name_key` and `phone_key` of every row of `table` from its name and phone, with the functions the
    models use (organiser_portal.matching.name_key, organiser_portal.phones.phone_e164), `batch` rows at a
    time in order of id, each batch committed on its own (the migration is not atomic): a million orders
    take minutes, and no transaction holds them all. Safe to run again: it writes the same values.

    `country_sql` is the region a row's phone is read in, from the tables of `joins` (the row is `t`).
    `only_where` (SQL on `t` and its parameters) limits the rows written: those a change of the rules touches."""
    condition, condition_params = only_where
    select = (
        f"SELECT t.id, t.{name_column}, t.{phone_column}, {country_sql} FROM {table} t {joins} "
        f"WHERE t.id > %s {f'AND ({condition})' if condition else ''} ORDER BY t.id LIMIT %s"
    )

    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        last = 0
        while True:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(select, [last, *condition_params, batch])
                rows = cursor.fetchall()
                if not rows:
                    return
                keys = [
                    (pk, name_key(name), phone_e164(phone, country) if phone else "")
                    for pk, name, phone, country in rows
                ]
                if connection.vendor == "postgresql":
                    cursor.execute(
                        f"UPDATE {table} t SET name_key = v.k, {phone_key} = v.p "
                        f"FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, k, p) WHERE t.id = v.id",
                        [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]],
                    )
                else:
                    cursor.executemany(
                        f"UPDATE {table} SET name_key = %s, {phone_key} = %s WHERE id = %s",
                        [(k, p, pk) for pk, k, p in keys],
                    )
                last = rows[-1][0]

    return migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)


# Characters the name rule (organiser_portal.matching) learnt to read after the first backfill: apostrophes (a
# name gains its spelling without them) and invisible format characters; and "(0)" in a phone number.
REFOLDED_NAME_CHARACTERS = (
    "'",
    "\u2019",
    "\u2018",
    "\u02bc",
    "`",
    "\u00b4",
    "\u00ad",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
)


def search_keys_refresh_where(name_column: str, phone_column: str) -> tuple[str, list[str]]:
    """`only_where` for search_keys_backfill: the rows whose name holds one of REFOLDED_NAME_CHARACTERS or
    whose phone holds "(0)" (portable SQL: LIKE with parameters)."""
    names = [f"t.{name_column} LIKE %s" for _ in REFOLDED_NAME_CHARACTERS]
    params = [f"%{c}%" for c in REFOLDED_NAME_CHARACTERS]
    return " OR ".join([*names, f"t.{phone_column} LIKE %s"]), [*params, "%(0)%"]
