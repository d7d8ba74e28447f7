"""tickets/sql.py's two forms give the same results on the same data: admitted once, then already used;
invalid, wrong event, unknown code, another organisation's ticket; a re-sent upload kept once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EventFactory, TicketTypeFactory
from tests.sql_forms import run_each_form
from tickets.models import Scan, Ticket
from tickets.services import scanner_device_create, ticket_check_in

pytestmark = pytest.mark.django_db


def test_check_ins_at_the_door_end_the_same_either_way(organisation, other_organisation, event, make_order):
    valid, invalid = make_order(quantity=2).tickets.order_by("id")
    Ticket.objects.filter(pk=invalid.pk).update(status="invalid", invalid_reason="refunded")
    winter = EventFactory(organisation=organisation, name="Winter Festival")
    of_winter = make_order(event=winter, ticket_type=TicketTypeFactory(event=winter)).tickets.get()
    theirs = make_order(
        event=(e := EventFactory(organisation=other_organisation)), ticket_type=TicketTypeFactory(event=e)
    )
    device, _ = scanner_device_create(organisation=organisation, name="Roaming")  # bound to no event
    typed = f" {valid.public_id[:3].lower()} {valid.public_id[3:6]}-{valid.public_id[6:]} "
    at = timezone.now() - timedelta(hours=1)
    scans = [
        (valid.secret, "c-1"),
        (typed, "c-2"),  # the same ticket, its ID typed by door staff
        (valid.secret, "c-1"),  # the first upload, sent again
        (invalid.secret, "c-3"),
        (of_winter.secret, "c-4"),
        ("https://example.com/not-a-ticket", "c-5"),
        (theirs.tickets.get().secret, "c-6"),
    ]

    def scenario():
        verdicts = []
        for minutes, (code, client_scan_id) in enumerate(scans):
            when = at + timedelta(minutes=minutes)
            check_in = ticket_check_in(
                device=device, code=code, event=event, scanned_at=when, client_scan_id=client_scan_id
            )
            scan = check_in.scan
            ticket = scan.ticket.public_id if scan.ticket else None
            verdicts.append((scan.result, scan.reason, ticket, scan.raw_code, check_in.repeated, scan.scanned_at))
        used = dict(Ticket.objects.values_list("public_id", "used_at"))
        return verdicts, used, Scan.objects.count()

    pg, portable = run_each_form(scenario)

    assert pg.outcome == portable.outcome
    verdicts, used, scans_kept = pg.outcome
    assert [verdict[:2] for verdict in verdicts] == [
        ("admitted", ""),
        ("denied", "already_used"),
        ("admitted", ""),  # the scan recorded for c-1, answered again
        ("denied", "invalid"),
        ("denied", "wrong_event"),
        ("denied", "unknown"),
        ("denied", "unknown"),
    ]
    assert [verdict[4] for verdict in verdicts] == [False, False, True, False, False, False, False]
    assert verdicts[5][2:4] == (None, "https://example.com/not-a-ticket")
    assert used[valid.public_id] == at and set(used.values()) == {at, None}
    assert scans_kept == 6
    assert pg.ran("FOR UPDATE OF t") and not portable.ran("FOR UPDATE")
    assert pg.ran("WITH scan AS") and not portable.ran("WITH scan AS")
