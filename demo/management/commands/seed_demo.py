"""`manage.py seed_demo`: the demo organisations, users and ~500 orders (see demo/)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.seed import demo_reset, demo_seed, is_seeded
from demo.specs import ANNA_CODE, ANNA_EMAIL, ANNA_NAME, LOGINS
from guests.services import name_words_refresh
from orders.models import Order


class Command(BaseCommand):
    help = "Create the demo data once: two organisations, their teams, events and about 500 orders."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (quietly) when the demo organisation exists."
        )
        parser.add_argument("--reset", action="store_true", help="Delete the demo organisations and users first.")
        parser.add_argument(
            "--allow-demo-logins",
            action="store_true",
            help="Create the demo logins (published passwords) even though DEBUG is off.",
        )

    def handle(
        self, *args, if_empty: bool = False, reset: bool = False, allow_demo_logins: bool = False, **options
    ) -> None:
        if not settings.DEBUG and not allow_demo_logins:
            raise CommandError(
                "DEBUG is off, so this may be a production database, and the demo creates logins whose "
                "passwords are published in the README (owner@demo.example / demo-owner …). Refusing. "
                "Run it with DEBUG=1 (as `make run` does), or pass --allow-demo-logins for a database "
                "that only you can reach."
            )
        if reset:
            demo_reset()
        if is_seeded():
            if if_empty:
                return
            self.stdout.write("Demo data is already there; nothing changed (use --reset to build it again).")
        else:
            started = time.monotonic()
            result = demo_seed()
            name_words_refresh()  # the search box's typo vocabulary
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {len(result.organisations)} organisations and {result.orders} orders "
                    f"in {time.monotonic() - started:.1f} s."
                )
            )
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write("\nDemo logins (username = email):")
        width = max(len(login.email) for login in LOGINS)
        for login in LOGINS:
            self.stdout.write(f"  {login.email:<{width}}  {login.password:<13}  {login.description}")
        anna = Order.objects.filter(code=ANNA_CODE, contact_name=ANNA_NAME).select_related("event").first()
        if anna:
            self.stdout.write(
                f"\nDemo guest: {ANNA_NAME} <{ANNA_EMAIL}>, order {ANNA_CODE} ({anna.event}): "
                f"her tickets email {anna.get_email_status_display().lower()}."
            )
