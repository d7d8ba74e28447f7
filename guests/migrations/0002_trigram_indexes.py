from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from organiser_portal.migration_ops import trigram_index


class Migration(migrations.Migration):
    dependencies = [("guests", "0001_initial")]

    operations = [
        TrigramExtension(),
        trigram_index("guests_guest", "name"),
        trigram_index("guests_guest", "email"),
    ]
