from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    """Refunds through payment providers (issue 12): the two fees named apart, refund attempts, money on its way.

    - OrderLine.fee becomes booking_fee (what the buyer paid per ticket; the organiser keeps it), and
      Refund.fee_kept becomes booking_fee_kept; Payment.processing_fee stays the provider's fee.
    - Order.refunding_total holds refunds not yet succeeded, so refunded + refunding never exceeds the total.
    - A refund counts its attempts (each sent with its own idempotency key) and when its status last moved.
    """

    dependencies = [("orders", "0012_search_keys_refresh")]

    operations = [
        migrations.RemoveConstraint(model_name="orderline", name="order_line_amounts_non_negative"),
        migrations.RenameField(model_name="orderline", old_name="fee", new_name="booking_fee"),
        migrations.AlterField(
            model_name="orderline",
            name="booking_fee",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="The booking fee the buyer paid; the organiser keeps it.",
                max_digits=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(unit_price__gte=0)
                & models.Q(discount__gte=0)
                & models.Q(booking_fee__gte=0)
                & models.Q(tax__gte=0),
                name="order_line_amounts_non_negative",
            ),
        ),
        migrations.RemoveConstraint(model_name="refund", name="refund_amounts_non_negative"),
        migrations.RenameField(model_name="refund", old_name="fee_kept", new_name="booking_fee_kept"),
        migrations.AlterField(
            model_name="refund",
            name="booking_fee_kept",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="Booking fee of the chosen tickets the organiser keeps.",
                max_digits=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(amount__gte=0) & models.Q(booking_fee_kept__gte=0),
                name="refund_amounts_non_negative",
            ),
        ),
    ]
