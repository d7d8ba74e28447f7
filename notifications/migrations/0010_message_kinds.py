from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0009_one_ticket_emails"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outgoingmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("tickets", "Tickets"),
                    ("tickets_resend", "Tickets (resent)"),
                    ("refund_notice", "Refund notice"),
                    ("cancellation_notice", "Cancellation notice"),
                    ("member_invitation", "Member invitation"),
                    ("password_reset", "Password reset"),
                    ("personalisation_request", "Attendee details request"),
                    ("ticket_transfer", "Transferred ticket"),
                    ("ticket_reissue", "Reissued ticket"),
                ],
                max_length=24,
            ),
        ),
    ]
