"""Order search keys again where the rules changed after 0009: apostrophes, invisible characters, "(0)"."""

from django.db import migrations

from organiser_portal.migration_ops import search_keys_backfill, search_keys_refresh_where


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("orders", "0011_org_list_indexes")]

    operations = [
        search_keys_backfill(
            table="orders_order",
            name_column="contact_name",
            phone_column="contact_phone",
            phone_key="contact_phone_e164",
            country_sql="COALESCE(NULLIF(e.country, ''), g.country)",
            joins="JOIN organiser_portal_event e ON e.id = t.event_id "
            "JOIN organiser_portal_organisation g ON g.id = t.organisation_id",
            only_where=search_keys_refresh_where("contact_name", "contact_phone"),
        ),
    ]
