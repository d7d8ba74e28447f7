# A form's idempotency key names one action on one order: the same key on another order is another action.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_delivery_event_autoresponded"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="outgoingmessage",
            name="message_unique_idempotency_key",
        ),
        migrations.AddConstraint(
            model_name="outgoingmessage",
            constraint=models.UniqueConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                fields=("order", "idempotency_key"),
                name="message_unique_order_idempotency_key",
            ),
        ),
    ]
