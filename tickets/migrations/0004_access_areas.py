"""Access areas and points per event; scans and devices point at them.

The free-text names in use become rows: every (event, area) named by a scan or by a bound device's defaults
becomes an AccessArea admitting all ticket types (so the door admits exactly as before), every point named
with it an AccessPoint; scans keep their names and gain the links. A bound device's defaults become its
access point (a device naming an area but no point gets a point of its own name). An unbound device's
defaults are dropped: an area belongs to one event. Scan times and first uses before 2000 (a scanner clock
at year 1 once stored times Python can't read back) are set to the event's start before the new checks.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0014_refund_attempts"),
        ("organiser_portal", "0004_ticket_type_booking_fee"),
        ("tickets", "0003_invalid_reason_cancelled"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessArea",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120)),
                (
                    "all_ticket_types",
                    models.BooleanField(
                        default=True, help_text="Admits every ticket type of the event, also those added later."
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="access_areas",
                        to="organiser_portal.event",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organiser_portal.organisation",
                    ),
                ),
                (
                    "ticket_types",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Admitted when not all ticket types are.",
                        related_name="access_areas",
                        to="organiser_portal.tickettype",
                    ),
                ),
            ],
            options={"ordering": ["event", "name"]},
        ),
        migrations.CreateModel(
            name="AccessPoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "area",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="points", to="tickets.accessarea"
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organiser_portal.organisation",
                    ),
                ),
            ],
            options={"ordering": ["area", "name"]},
        ),
        migrations.AddConstraint(
            model_name="accessarea",
            constraint=models.UniqueConstraint(fields=("event", "name"), name="access_area_unique_name"),
        ),
        migrations.AddConstraint(
            model_name="accesspoint",
            constraint=models.UniqueConstraint(fields=("area", "name"), name="access_point_unique_name"),
        ),
        migrations.AddField(
            model_name="scan",
            name="area",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="scans",
                to="tickets.accessarea",
            ),
        ),
        migrations.AddField(
            model_name="scan",
            name="point",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="scans",
                to="tickets.accesspoint",
            ),
        ),
        migrations.RenameField(model_name="scannerdevice", old_name="access_area", new_name="access_area_name"),
        migrations.RenameField(model_name="scannerdevice", old_name="access_point", new_name="access_point_name"),
        migrations.AddField(
            model_name="scannerdevice",
            name="access_point",
            field=models.ForeignKey(
                blank=True,
                help_text="Where it stands: its scans are at this point and its area unless a scan names another.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="devices",
                to="tickets.accesspoint",
            ),
        ),
    ]
