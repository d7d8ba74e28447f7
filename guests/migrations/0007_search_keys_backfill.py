"""Customer.name_key and phone_e164 of every account, in committed batches (see search_keys_backfill)."""

from django.db import migrations

from organiser_portal.migration_ops import search_keys_backfill


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("guests", "0006_search_keys")]

    operations = [
        search_keys_backfill(
            table="guests_customer",
            name_column="name",
            phone_column="phone",
            phone_key="phone_e164",
            country_sql="g.country",
            joins="JOIN organiser_portal_organisation g ON g.id = t.organisation_id",
        ),
    ]
