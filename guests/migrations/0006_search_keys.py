"""Customer.name_key and Customer.phone_e164 (issue 11), as orders 0008 does for orders."""

from django.db import migrations, models

from organiser_portal.migration_ops import reversed_sql, search_words_column, trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0005_rename_guest_to_customer"),
        ("organiser_portal", "0003_organisation_event_country"),
    ]

    operations = [
        reversed_sql(search_words_column("guests_customer", "name", "email")),
        # Built under the model's old table name (guests 0002), renamed by 0005.
        reversed_sql(trigram_index("guests_customer", "name")),
        migrations.RemoveIndex(model_name="customer", name="customer_org_name"),
        migrations.AddField(
            model_name="customer",
            name="name_key",
            field=models.CharField(blank=True, default="", editable=False, max_length=1000),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="customer",
            name="phone_e164",
            field=models.CharField(blank=True, default="", editable=False, max_length=16),
            preserve_default=False,
        ),
    ]
