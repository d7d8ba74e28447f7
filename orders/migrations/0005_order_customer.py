"""Order.guest → Order.customer (column customer_id), following guests.Guest → guests.Customer."""

from django.db import migrations

from organiser_portal.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0005_rename_guest_to_customer"),
        ("orders", "0004_search_words"),
    ]

    operations = [
        migrations.RenameField(model_name="order", old_name="guest", new_name="customer"),
        # PostgreSQL keeps the foreign key's index under the name Django gave it for guest_id; SQLite rebuilds
        # the table and names it for customer_id, as Django would on a fresh database: the same name here.
        PostgresOnlySQL(
            sql="ALTER INDEX IF EXISTS orders_order_guest_id_df75a6a4 RENAME TO orders_order_customer_id_0b76f6a4",
            reverse_sql="ALTER INDEX IF EXISTS orders_order_customer_id_0b76f6a4 RENAME TO orders_order_guest_id_df75a6a4",
        ),
    ]
