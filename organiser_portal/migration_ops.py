"""Migration operations that only apply on PostgreSQL, so the embedded SQLite default still migrates."""

from django.db import migrations


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
