"""The search's indexes on name_key and contact_phone_e164, built once the backfill (0009) wrote them."""

from django.db import migrations, models

from organiser_portal.migration_ops import search_words_column, trigram_index_plain


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_search_keys_backfill")]

    operations = [
        search_words_column("orders_order", "name_key", "contact_email"),
        trigram_index_plain("orders_order", "name_key"),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["organisation", "contact_phone_e164"], name="order_org_phone_e164"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                models.F("organisation"),
                models.F("name_key"),
                models.OrderBy(models.F("created_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="order_org_name_key",
            ),
        ),
    ]
