"""Guest → Customer: the model is a customer account. "Guest checkout" stays the word for an order without
one, and "guest list" for an event's orders."""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models

from organiser_portal.migration_ops import PostgresOnlySQL

# Names that carry the old table's name on PostgreSQL only: the trigram and words indexes (0002, 0004), the
# primary key and the id sequence. SQLite has none of them, or rebuilds them under the new name itself.
_POSTGRES_NAMES = [
    ("INDEX", "guests_guest_pkey", "guests_customer_pkey"),
    ("INDEX", "guests_guest_name_trgm", "guests_customer_name_trgm"),
    ("INDEX", "guests_guest_email_trgm", "guests_customer_email_trgm"),
    ("INDEX", "guests_guest_search_words", "guests_customer_search_words"),
    ("SEQUENCE", "guests_guest_id_seq", "guests_customer_id_seq"),
]


class Migration(migrations.Migration):
    # After every migration that points at guests.Guest, so RenameModel repoints them all (Order.guest).
    dependencies = [
        ("guests", "0004_search_words"),
        ("orders", "0004_search_words"),
        ("organiser_portal", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel(old_name="Guest", new_name="Customer"),
        migrations.AlterField(
            model_name="customer",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="customers",
                to="organiser_portal.organisation",
            ),
        ),
        migrations.RenameIndex(model_name="customer", new_name="customer_email_lower", old_name="guest_email_lower"),
        migrations.RenameIndex(model_name="customer", new_name="customer_org_name", old_name="guest_org_name"),
        migrations.RenameIndex(model_name="customer", new_name="customer_phone", old_name="guest_phone"),
        # Django has no RenameConstraint: the new one is in place before the old one goes, so no moment allows
        # a duplicate address.
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                models.F("organisation"),
                name="customer_unique_email_per_org",
            ),
        ),
        migrations.RemoveConstraint(model_name="customer", name="guest_unique_email_per_org"),
        PostgresOnlySQL(
            sql=[f"ALTER {kind} IF EXISTS {old} RENAME TO {new}" for kind, old, new in _POSTGRES_NAMES],
            reverse_sql=[f"ALTER {kind} IF EXISTS {new} RENAME TO {old}" for kind, old, new in _POSTGRES_NAMES],
        ),
    ]
