"""One spelling for cancelled: the timeline's action codes ticket.canceled and ticket.transfer_canceled become
ticket.cancelled and ticket.transfer_cancelled (order.cancelled already was)."""

from django.db import migrations

CODES = {"ticket.canceled": "ticket.cancelled", "ticket.transfer_canceled": "ticket.transfer_cancelled"}


def _respell(codes: dict[str, str]):
    def run(apps, schema_editor):
        # Only the code's spelling changes: the timeline is append-only, its entries otherwise stay as written.
        TimelineEntry = apps.get_model("orders", "TimelineEntry")
        for old, new in codes.items():
            TimelineEntry.objects.filter(action=old).update(action=new)

    return run


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_order_customer")]

    operations = [
        migrations.RunPython(_respell(CODES), _respell({new: old for old, new in CODES.items()}), elidable=False),
    ]
