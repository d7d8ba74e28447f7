"""Order.name_key and contact_phone_e164 of every order, in committed batches (see search_keys_backfill)."""

from django.db import migrations

from organiser_portal.migration_ops import search_keys_backfill


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("orders", "0008_search_keys")]

    operations = [
        search_keys_backfill(
            table="orders_order",
            name_column="contact_name",
            phone_column="contact_phone",
            phone_key="contact_phone_e164",
            country_sql="COALESCE(NULLIF(e.country, ''), g.country)",
            joins="JOIN organiser_portal_event e ON e.id = t.event_id "
            "JOIN organiser_portal_organisation g ON g.id = t.organisation_id",
        ),
    ]
