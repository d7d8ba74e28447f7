"""The devices' free-text defaults go (0005 made them rows); plausible times and the scan log's indexes."""

import datetime

from django.db import migrations, models

PLAUSIBLE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_access_area_rows")]

    operations = [
        migrations.RemoveField(model_name="scannerdevice", name="access_area_name"),
        migrations.RemoveField(model_name="scannerdevice", name="access_point_name"),
        migrations.AlterField(
            model_name="scan",
            name="reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "—"),
                    ("already_used", "Already used"),
                    ("invalid", "Ticket invalid"),
                    ("wrong_event", "Wrong event"),
                    ("unknown", "Unknown code"),
                    ("area_not_allowed", "Area not allowed"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.CheckConstraint(
                condition=models.Q(("used_at__isnull", True), ("used_at__gte", PLAUSIBLE), _connector="OR"),
                name="ticket_used_at_plausible",
            ),
        ),
        migrations.AddConstraint(
            model_name="scan",
            constraint=models.CheckConstraint(
                condition=models.Q(("scanned_at__gte", PLAUSIBLE)), name="scan_time_plausible"
            ),
        ),
        migrations.AddIndex(
            model_name="scan",
            index=models.Index(fields=["event", "-scanned_at", "-id"], name="scan_event_time"),
        ),
        migrations.AddIndex(
            model_name="scan",
            index=models.Index(fields=["area", "-scanned_at", "-id"], name="scan_area_time"),
        ),
        migrations.AddIndex(
            model_name="scan",
            index=models.Index(fields=["point", "-scanned_at", "-id"], name="scan_point_time"),
        ),
    ]
