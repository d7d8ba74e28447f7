"""One spelling for cancelled: a ticket's invalid_reason "canceled" becomes "cancelled" (Order.Status already
says "cancelled"). The timeline's action codes follow in orders 0006."""

from django.db import migrations, models

OLD, NEW = "canceled", "cancelled"


def _respell(old: str, new: str):
    def run(apps, schema_editor):
        Ticket = apps.get_model("tickets", "Ticket")
        # update(), not save(): updated_at stays when the ticket last really changed.
        Ticket.objects.filter(invalid_reason=old).update(invalid_reason=new)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_scanner_device")]

    operations = [
        migrations.AlterField(
            model_name="ticket",
            name="invalid_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "—"),
                    ("transferred", "transferred"),
                    ("cancelled", "cancelled"),
                    ("refunded", "refunded"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.RunPython(_respell(OLD, NEW), _respell(NEW, OLD), elidable=False),
    ]
