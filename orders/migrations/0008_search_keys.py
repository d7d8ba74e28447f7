"""Order.name_key and Order.contact_phone_e164 (issue 11): the search matches folded names and E.164 numbers.

The words column, the trigram index on the name and the full-name index are dropped here, before the
backfill (0009) writes a million rows, and built again from name_key afterwards (0010): maintaining them
row by row through the backfill would cost more than building them once.
"""

from django.db import migrations, models

from organiser_portal.migration_ops import reversed_sql, search_words_column, trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_contact_email_address_rule"),
        ("organiser_portal", "0003_organisation_event_country"),
    ]

    operations = [
        reversed_sql(search_words_column("orders_order", "contact_name", "contact_email")),
        reversed_sql(trigram_index("orders_order", "contact_name")),
        migrations.RemoveIndex(model_name="order", name="order_org_name"),
        migrations.AddField(
            model_name="order",
            name="contact_phone_e164",
            field=models.CharField(blank=True, default="", editable=False, max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="order",
            name="name_key",
            field=models.CharField(blank=True, default="", editable=False, max_length=1000),
            preserve_default=False,
        ),
    ]
