"""Customer search keys again where the rules changed after 0007: apostrophes, invisible characters, "(0)"."""

from django.db import migrations

from organiser_portal.migration_ops import search_keys_backfill, search_keys_refresh_where


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("guests", "0009_org_list_indexes")]

    operations = [
        search_keys_backfill(
            table="guests_customer",
            name_column="name",
            phone_column="phone",
            phone_key="phone_e164",
            country_sql="g.country",
            joins="JOIN organiser_portal_organisation g ON g.id = t.organisation_id",
            only_where=search_keys_refresh_where("name", "phone"),
        ),
    ]
