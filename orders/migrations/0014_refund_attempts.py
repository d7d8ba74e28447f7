import django.db.models.expressions
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0010_search_keys_refresh"),
        ("orders", "0013_refunds_and_fees"),
        ("organiser_portal", "0004_ticket_type_booking_fee"),
        ("tickets", "0003_invalid_reason_cancelled"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="refunding_total",
            field=models.DecimalField(db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=12),
        ),
        migrations.AddField(
            model_name="payment",
            name="method",
            field=models.CharField(blank=True, db_default="", default="", max_length=40),
        ),
        migrations.AddField(
            model_name="refund",
            name="attempt",
            field=models.PositiveSmallIntegerField(db_default=1, default=1),
        ),
        migrations.AddField(
            model_name="refund",
            name="booking_fee_refunded",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="refund",
            name="notify_customer",
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.AddField(
            model_name="refund",
            name="provider_reference",
            field=models.CharField(blank=True, db_default="", default="", max_length=120),
        ),
        migrations.AddField(
            model_name="refund",
            name="status_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="payment",
            name="processing_fee",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="The payment provider's fee, borne by the organiser.",
                max_digits=10,
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("pending", "Pending"),
                    ("confirmed", "Confirmed"),
                    ("failed", "Failed"),
                    ("expired", "Expired"),
                    ("cancelled", "Cancelled"),
                ],
                default="created",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="timelineentry",
            name="actor_kind",
            field=models.CharField(
                choices=[
                    ("user", "User"),
                    ("system", "System"),
                    ("webhook", "Email service"),
                    ("provider", "Payment provider"),
                ],
                default="system",
                max_length=8,
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["status", "status_changed_at"], name="refund_status_changed"),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("refunding_total__gte", 0),
                    (
                        "refunded_total__lte",
                        django.db.models.expressions.CombinedExpression(
                            models.F("total"), "-", models.F("refunding_total")
                        ),
                    ),
                ),
                name="order_refunds_within_total",
            ),
        ),
    ]
