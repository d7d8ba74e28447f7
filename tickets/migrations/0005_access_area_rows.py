"""The data of 0004: free-text names become access areas and points; implausible times repaired (see 0004).

A migration of its own: PostgreSQL refuses to alter a table with pending foreign key checks in one transaction.
"""

from django.db import migrations

REPAIR_TIMES = [
    "UPDATE tickets_scan SET scanned_at = (SELECT e.starts_at FROM organiser_portal_event e"
    " WHERE e.id = tickets_scan.event_id) WHERE scanned_at < '2000-01-01'",
    "UPDATE tickets_ticket SET used_at = (SELECT e.starts_at FROM organiser_portal_event e"
    " WHERE e.id = tickets_ticket.event_id) WHERE used_at < '2000-01-01'",
]


def names_to_rows(apps, schema_editor):
    Scan = apps.get_model("tickets", "Scan")
    Device = apps.get_model("tickets", "ScannerDevice")
    Area = apps.get_model("tickets", "AccessArea")
    Point = apps.get_model("tickets", "AccessPoint")
    named: dict[tuple[int, int, str], set[str]] = {}
    scans = Scan.objects.exclude(access_area="").values_list(
        "organisation_id", "event_id", "access_area", "access_point"
    )
    for org, event, area, point in scans.order_by().distinct():
        named.setdefault((org, event, area), set()).add(point)
    devices = Device.objects.exclude(event=None).exclude(access_area_name="")
    for device in devices:
        point = device.access_point_name or device.name
        named.setdefault((device.organisation_id, device.event_id, device.access_area_name), set()).add(point)
    for (org, event, area_name), point_names in named.items():
        area = Area.objects.create(organisation_id=org, event_id=event, name=area_name, all_ticket_types=True)
        Scan.objects.filter(event_id=event, access_area=area_name).update(area=area)
        for point_name in sorted(point_names - {""}):
            point = Point.objects.create(organisation_id=org, area=area, name=point_name)
            Scan.objects.filter(event_id=event, access_area=area_name, access_point=point_name).update(point=point)
            devices.filter(event_id=event, access_area_name=area_name, access_point_name=point_name).update(
                access_point=point
            )
            devices.filter(event_id=event, access_area_name=area_name, access_point_name="", name=point_name).update(
                access_point=point
            )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_access_areas")]

    operations = [
        migrations.RunSQL(REPAIR_TIMES, reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(names_to_rows, migrations.RunPython.noop),
    ]
