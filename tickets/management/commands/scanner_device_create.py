"""`manage.py scanner_device_create --org <slug> --name "Gate A" [--event <event ID> [--access-point "Gate A1"]]`:
a door scanner and its token. Managers do the same in the portal (event → Door)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from organiser_portal.models import Event, Organisation
from tickets.models import AccessPoint
from tickets.services import scanner_device_create


class Command(BaseCommand):
    help = "Create a scanner device for the check-in API and print its bearer token (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True, help="Shown as the device of its scans, e.g. “Gate A”.")
        parser.add_argument("--event", help="Bind it to this event (event ID, or the numeric id).")
        parser.add_argument("--access-point", default="", help="Place it at this access point of the event (its name).")

    def handle(self, *args, org: str, name: str, event: str | None, access_point: str, **options):
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        bound = None
        if event:
            match = Q(public_id=event.upper()) | (Q(pk=int(event)) if event.isdigit() else Q())
            bound = Event.objects.filter(match, organisation=organisation).first()
            if bound is None:
                raise CommandError(f"No event {event!r} in {organisation}.")
        point = None
        if access_point:
            if bound is None:
                raise CommandError("--access-point needs --event: an access point belongs to one event.")
            point = AccessPoint.objects.filter(area__event=bound, name=access_point).select_related("area").first()
            if point is None:
                raise CommandError(f"No access point {access_point!r} at {bound.name}: add it in the portal (Door).")
        device, token = scanner_device_create(organisation=organisation, name=name, event=bound, access_point=point)
        where = f"event {bound.name} ({bound.public_id})" if bound else "any event of the organisation"
        self.stdout.write(f"Created scanner device {device.name!r} (#{device.pk}) of {organisation} for {where}.")
        self.stdout.write("Its token, shown this once only (send it as `Authorization: Bearer <token>`):")
        self.stdout.write(token)
