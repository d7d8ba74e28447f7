from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from organiser_portal.migration_ops import trigram_index


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_initial")]

    operations = [
        TrigramExtension(),
        trigram_index("orders_order", "contact_name"),
        trigram_index("orders_order", "contact_email"),
    ]
