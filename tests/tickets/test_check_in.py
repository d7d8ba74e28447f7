"""ticket_check_in: one Scan per check-in, admitted at most once per ticket, re-sent uploads kept once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import EventFactory, TicketTypeFactory
from tickets.models import Scan, ScannerDevice, Ticket
from tickets.services import CheckInError, scanner_device_create, scanner_device_revoke, ticket_check_in

pytestmark = pytest.mark.django_db
Result, Reason = Scan.Result, Scan.Reason


def test_a_valid_unused_ticket_is_admitted_once_and_marked_used(sql_form, device, event, ticket):
    at = timezone.now() - timedelta(seconds=5)
    check_in = ticket_check_in(device=device, code=ticket.secret, event=event, scanned_at=at, access_point="Gate A1")

    scan = Scan.objects.get()
    assert check_in.scan == scan and not check_in.repeated
    assert (scan.result, scan.reason, scan.ticket, scan.raw_code) == (Result.ADMITTED, "", ticket, "")
    assert (scan.access_area, scan.access_point, scan.device, scan.scanner) == (
        "Main entrance",
        "Gate A1",
        "Gate A",
        device,
    )
    assert scan.scanned_at == at
    ticket.refresh_from_db()
    assert ticket.used_at == at and ticket.display_status == "Valid · used"


def test_a_typed_ticket_id_is_accepted_as_people_type_it(sql_form, device, event, ticket):
    typed = f" {ticket.public_id[:3].lower()} {ticket.public_id[3:6]}-{ticket.public_id[6:]} "
    assert ticket_check_in(device=device, code=typed, event=event).scan.result == Result.ADMITTED
    assert Ticket.objects.get(pk=ticket.pk).used_at is not None


def test_a_used_ticket_is_denied_and_says_when_it_was_first_used(sql_form, device, event, ticket):
    first = ticket_check_in(device=device, code=ticket.secret, event=event).scan
    again = ticket_check_in(device=device, code=ticket.secret, event=event).scan

    assert (again.result, again.reason) == (Result.DENIED, Reason.ALREADY_USED)
    assert again.ticket is not None and again.ticket.used_at == first.scanned_at
    assert Scan.objects.count() == 2
    assert Ticket.objects.get(pk=ticket.pk).used_at == first.scanned_at


def test_an_invalid_ticket_is_denied_and_stays_unused(sql_form, device, event, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status="invalid", invalid_reason="refunded")
    scan = ticket_check_in(device=device, code=ticket.secret, event=event).scan
    assert (scan.result, scan.reason, scan.ticket_id) == (Result.DENIED, Reason.INVALID, ticket.pk)
    assert Ticket.objects.get(pk=ticket.pk).used_at is None


def test_a_ticket_of_another_event_is_denied_wrong_event(sql_form, organisation, event, make_order):
    other_event = EventFactory(organisation=organisation, name="Winter Festival")
    ticket = make_order(event=other_event, ticket_type=TicketTypeFactory(event=other_event)).tickets.get()
    device, _ = scanner_device_create(organisation=organisation, name="Roaming")  # bound to no event
    scan = ticket_check_in(device=device, code=ticket.secret, event=event).scan
    assert (scan.result, scan.reason, scan.event, scan.ticket) == (Result.DENIED, Reason.WRONG_EVENT, event, ticket)
    assert Ticket.objects.get(pk=ticket.pk).used_at is None


def test_an_unknown_code_is_denied_and_what_was_read_is_kept(sql_form, device, event):
    scan = ticket_check_in(device=device, code="https://example.com/not-a-ticket", event=event).scan
    assert (scan.result, scan.reason, scan.ticket) == (Result.DENIED, Reason.UNKNOWN, None)
    assert scan.raw_code == "https://example.com/not-a-ticket"
    assert Scan.objects.get().raw_code == scan.raw_code


def test_another_organisations_ticket_is_unknown_and_left_alone(sql_form, other_organisation, ticket):
    other_event = EventFactory(organisation=other_organisation)
    device, _ = scanner_device_create(organisation=other_organisation, name="Their gate", event=other_event)
    scan = ticket_check_in(device=device, code=ticket.secret, event=other_event).scan
    assert (scan.result, scan.reason, scan.ticket, scan.raw_code) == (
        Result.DENIED,
        Reason.UNKNOWN,
        None,
        ticket.secret,
    )
    assert not ticket.scans.exists() and Ticket.objects.get(pk=ticket.pk).used_at is None


def test_a_re_sent_upload_returns_the_scan_recorded_before_and_changes_nothing(sql_form, device, event, ticket):
    at = (event.starts_at + timedelta(minutes=2, seconds=11)).replace(microsecond=0)
    first = ticket_check_in(device=device, code=ticket.secret, event=event, scanned_at=at, client_scan_id="s-1")
    again = ticket_check_in(device=device, code=ticket.secret, event=event, scanned_at=at, client_scan_id="s-1")

    assert first.scan.result == Result.ADMITTED and not first.repeated
    assert again.repeated and again.scan.pk == first.scan.pk and again.scan.result == Result.ADMITTED
    assert Scan.objects.count() == 1
    assert Ticket.objects.get(pk=ticket.pk).used_at == at
    # Another scan of the same ticket by the same device (a new client ID) is a new scan: denied, used.
    other = ticket_check_in(device=device, code=ticket.secret, event=event, client_scan_id="s-2")
    assert (other.repeated, other.scan.reason) == (False, Reason.ALREADY_USED)


def test_a_re_sent_unknown_code_is_kept_once(device, event):
    for _ in range(3):
        check_in = ticket_check_in(device=device, code="garbage", event=event, client_scan_id="s-9")
    assert check_in.repeated and check_in.scan.reason == Reason.UNKNOWN
    assert Scan.objects.count() == 1


def test_client_scan_ids_are_per_device(organisation, device, event, make_order):
    tickets = make_order(quantity=2).tickets.all()
    other_device, _ = scanner_device_create(organisation=organisation, name="Gate B", event=event)
    a = ticket_check_in(device=device, code=tickets[0].secret, event=event, client_scan_id="1")
    b = ticket_check_in(device=other_device, code=tickets[1].secret, event=event, client_scan_id="1")
    assert not b.repeated and a.scan.pk != b.scan.pk and b.scan.result == Result.ADMITTED


def test_a_scan_time_in_the_past_is_kept_and_one_within_the_clock_skew_becomes_now(device, event, make_order):
    past, future = make_order(quantity=2).tickets.all()
    earlier = timezone.now() - timedelta(hours=3)
    assert ticket_check_in(device=device, code=past.secret, event=event, scanned_at=earlier).scan.scanned_at == earlier
    before = timezone.now()
    scan = ticket_check_in(
        device=device, code=future.secret, event=event, scanned_at=before + timedelta(minutes=4)
    ).scan
    assert before <= scan.scanned_at <= timezone.now()
    assert Ticket.objects.get(pk=future.pk).used_at == scan.scanned_at


def test_a_revoked_device_may_not_check_in(device, event, ticket):
    scanner_device_revoke(device=device)
    revoked_at = device.revoked_at
    assert revoked_at is not None
    assert scanner_device_revoke(device=device).revoked_at == revoked_at  # revoking again changes nothing
    with pytest.raises(CheckInError, match="revoked"):
        ticket_check_in(device=device, code=ticket.secret, event=event)
    assert not Scan.objects.exists() and Ticket.objects.get(pk=ticket.pk).used_at is None


def test_a_bound_device_checks_in_for_its_event_only(organisation, device, ticket):
    other_event = EventFactory(organisation=organisation, name="Winter Festival")
    with pytest.raises(CheckInError, match="Summer Festival"):
        ticket_check_in(device=device, code=ticket.secret, event=other_event)
    assert not Scan.objects.exists()


def test_a_device_may_not_check_in_for_another_organisations_event(other_organisation, ticket):
    device, _ = scanner_device_create(organisation=other_organisation, name="Their gate")
    with pytest.raises(CheckInError):
        ticket_check_in(device=device, code=ticket.secret, event=ticket.event)
    assert not Scan.objects.exists()


def test_the_device_is_marked_seen_at_most_once_a_minute(device, event, make_order):
    first, second = make_order(quantity=2).tickets.all()
    ticket_check_in(device=device, code=first.secret, event=event)
    seen = ScannerDevice.objects.get(pk=device.pk).last_seen_at
    assert seen is not None
    ticket_check_in(device=device, code=second.secret, event=event)
    assert ScannerDevice.objects.get(pk=device.pk).last_seen_at == seen


def test_the_token_is_stored_only_as_its_hash(device, token):
    assert token.startswith("scn_") and len(token) > 40
    stored = ScannerDevice.objects.filter(pk=device.pk).values().get()
    assert token not in {str(v) for v in stored.values()}
    assert device.token_hint == token[-4:]


@pytest.mark.django_db(transaction=True)
def test_scans_of_one_ticket_at_the_same_time_admit_it_exactly_once(device, event, ticket):
    """Six scanners read the same ticket at once: the test holds the ticket row locked while they start,
    so every thread is waiting inside ticket_check_in before the first can decide."""
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def scan(n: int) -> None:
        try:
            check_in = ticket_check_in(device=device, code=ticket.secret, event=event, client_scan_id=f"door-{n}")
            results.append((check_in.scan.result, check_in.scan.reason))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(6)]
    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        assert all(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(timeout=20)

    assert not errors
    assert sorted(results) == [(Result.ADMITTED, "")] + [(Result.DENIED, Reason.ALREADY_USED)] * 5
    assert Scan.objects.filter(ticket=ticket, result=Result.ADMITTED).count() == 1
    assert Scan.objects.filter(ticket=ticket).count() == 6
    admitted = Scan.objects.get(ticket=ticket, result=Result.ADMITTED)
    assert Ticket.objects.get(pk=ticket.pk).used_at == admitted.scanned_at


@pytest.mark.django_db(transaction=True)
def test_the_same_upload_sent_twice_at_once_is_kept_once(device, event, ticket):
    check_ins = []

    def scan() -> None:
        try:
            check_ins.append(ticket_check_in(device=device, code=ticket.secret, event=event, client_scan_id="retry"))
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(3)]
    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        for thread in threads:
            thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=20)

    assert len(check_ins) == 3 and sum(not c.repeated for c in check_ins) == 1
    assert {c.scan.pk for c in check_ins} == {Scan.objects.get().pk}
    assert Scan.objects.get().result == Result.ADMITTED
