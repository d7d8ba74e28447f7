"""The search's indexes on name_key and phone_e164; the name vocabulary (NameWord) in folded words."""

from django.db import migrations, models

from organiser_portal.migration_ops import PostgresOnlySQL, search_words_column, trigram_index_plain

MIN_WORD = 3  # guests.services.MIN_WORD when this was written

# The vocabulary held upper-cased words as typed ("MÜLLER"); the search now compares folded ones ("muller").
_REFOLD = f"""
DELETE FROM guests_nameword;
INSERT INTO guests_nameword (organisation_id, word)
SELECT DISTINCT organisation_id, word FROM (
    SELECT organisation_id, regexp_split_to_table(name_key::text, '[\\s-]+') AS word FROM orders_order
    UNION ALL
    SELECT organisation_id, regexp_split_to_table(name_key::text, '[\\s-]+') AS word FROM guests_customer
) names
WHERE length(word) >= {MIN_WORD} AND length(word) <= 200
ON CONFLICT DO NOTHING
"""


def refold_portable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        return
    NameWord, Order, Customer = (
        apps.get_model(*m) for m in (("guests", "NameWord"), ("orders", "Order"), ("guests", "Customer"))
    )
    NameWord.objects.all().delete()
    words = {
        (org, word)
        for model in (Order, Customer)
        for org, key in model.objects.values_list("organisation_id", "name_key").distinct()
        for word in key.replace("-", " ").split()
        if MIN_WORD <= len(word) <= 200
    }
    NameWord.objects.bulk_create([NameWord(organisation_id=org, word=word) for org, word in sorted(words)])


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0007_search_keys_backfill"),
        ("orders", "0009_search_keys_backfill"),
    ]

    operations = [
        search_words_column("guests_customer", "name_key", "email"),
        trigram_index_plain("guests_customer", "name_key"),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["organisation", "phone_e164"], name="customer_org_phone_e164"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                models.F("organisation"),
                models.F("name_key"),
                models.OrderBy(models.F("id"), descending=True),
                name="customer_org_name_key",
            ),
        ),
        PostgresOnlySQL(sql=_REFOLD, reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(refold_portable, migrations.RunPython.noop),
    ]
