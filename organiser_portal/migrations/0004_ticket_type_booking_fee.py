from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    """The fee a buyer pays per ticket is the booking fee; "processing fee" is the payment provider's."""

    dependencies = [("organiser_portal", "0003_organisation_event_country")]

    operations = [
        migrations.RemoveConstraint(model_name="tickettype", name="ticket_type_fee_non_negative"),
        migrations.RenameField(model_name="tickettype", old_name="processing_fee", new_name="booking_fee"),
        migrations.AlterField(
            model_name="tickettype",
            name="booking_fee",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="Paid by the buyer per ticket; kept by the organiser.",
                max_digits=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="tickettype",
            constraint=models.CheckConstraint(
                condition=models.Q(booking_fee__gte=0), name="ticket_type_fee_non_negative"
            ),
        ),
    ]
