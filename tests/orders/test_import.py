"""Order import: the preview names every problem, the write is all or nothing and idempotent by reference,
imported orders are paid with tickets and a timeline entry, and hostile files get a clear answer."""

from __future__ import annotations

import io
import os
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError
from django.http import Http404

from notifications.models import OutgoingMessage
from orders import imports
from orders.import_files import ImportFileError, csv_safe, file_read
from orders.imports import import_run_create, import_run_execute, import_run_start
from orders.models import ImportRun, Order, Payment, TimelineEntry
from tests.factories import MembershipFactory, RegionFactory, TicketTypeFactory
from tickets.models import PersonalDataField, Ticket

HEADER = "reference,name,email,phone,ticket_type,quantity,price,paid_at,attendee_name,attendee_email,attendee_company"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.fixture
def standing(event):
    return TicketTypeFactory(event=event, name="Standing", price=Decimal("40.00"), booking_fee=Decimal("2.00"))


@pytest.fixture
def vip(event):
    tt = TicketTypeFactory(event=event, name="VIP", price=Decimal("120.00"), requires_personal_data=True)
    PersonalDataField.objects.create(
        organisation=event.organisation, ticket_type=tt, key="company", label="Company", required=True
    )
    return tt


@pytest.fixture
def manager(member):
    return member("manager")


def create(manager, event, data: bytes, name: str = "orders.csv") -> ImportRun:
    return import_run_create(actor=manager, event=event, file_name=name, data=data)


def run_import(manager, run: ImportRun, send: bool = False) -> ImportRun:
    """Confirm and run the task's work here (the task itself is sent after commit, which tests don't reach)."""
    import_run_start(actor=manager, run=run, send_tickets=send)
    return import_run_execute(run.pk)


GOOD = (
    "WEB-1,Ada Lovelace,ada@example.com,+49 30 1234567,Standing,2,35.50,2026-05-01 18:30,,,",
    "WEB-1,,,,VIP,1,,,Charles Babbage,charles@example.com,Engines Ltd",
    "WEB-2,Grace Hopper,grace@example.com,,standing,1,,,,,",
)


@pytest.mark.django_db
def test_a_clean_file_previews_then_imports_paid_orders_with_tickets_and_a_timeline_entry(
    manager, event, standing, vip
):
    run = create(manager, event, csv_bytes(*GOOD))
    assert (run.status, run.error_count, run.order_count, run.ticket_count) == ("checked", 0, 2, 4)
    assert not Order.objects.filter(event=event).exists()  # the preview writes no order

    run = run_import(manager, run)

    assert run.status == "done" and run.progress == 2
    ada = Order.objects.get(event=event, external_reference="WEB-1")
    assert ada.status == "paid" and ada.tickets_held
    assert ada.total == Decimal("35.50") * 2 + Decimal("122.50")  # VIP blank: price 120.00 + booking fee 2.50
    assert ada.contact_phone_e164 == "+49301234567" and ada.name_key  # search keys written
    assert ada.paid_at == datetime(2026, 5, 1, 18, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # the event's time zone
    payment = ada.payments.get()
    assert (payment.provider, payment.method, payment.status, payment.amount) == (
        "manual",
        "Imported",
        "confirmed",
        ada.total,
    )
    vip_ticket = ada.tickets.get(ticket_type=vip)
    assert (vip_ticket.attendee_name, vip_ticket.attendee_data) == ("Charles Babbage", {"company": "Engines Ltd"})
    assert ada.tickets.count() == 3 and not vip_ticket.personal_data_missing
    entry = ada.timeline.get()  # the one entry, which says the tickets are held
    assert entry.action == "order.imported_held"
    assert entry.actor == manager and entry.data["source"] == f"orders.csv (import {run.pk})"
    grace = Order.objects.get(event=event, external_reference="WEB-2")
    assert grace.total == Decimal("42.00")  # blank price: the ticket type's price and booking fee
    assert not OutgoingMessage.objects.exists()  # held for review: nothing sent


@pytest.mark.django_db
def test_send_tickets_queues_one_tickets_email_per_order(manager, event, standing, vip):
    run_import(manager, create(manager, event, csv_bytes(*GOOD)), send=True)
    assert OutgoingMessage.objects.filter(kind="tickets").count() == 2
    assert not Order.objects.filter(event=event, tickets_held=True).exists()


@pytest.mark.django_db
def test_the_same_file_twice_creates_nothing_the_second_time(manager, event, standing, vip):
    run_import(manager, create(manager, event, csv_bytes(*GOOD)))
    again = create(manager, event, csv_bytes(*GOOD))
    assert (again.already_imported, again.order_count, again.error_count) == (2, 0, 0)
    with pytest.raises(Exception, match="Nothing to import"):
        import_run_start(actor=manager, run=again, send_tickets=False)
    # A file with one more order imports only that one.
    more = create(manager, event, csv_bytes(*GOOD, "WEB-3,Alan Turing,alan@example.com,,Standing,1,,,,,"))
    assert (more.already_imported, more.order_count) == (2, 1)
    run_import(manager, more)
    assert Order.objects.filter(event=event).count() == 3


@pytest.mark.django_db
def test_the_database_refuses_a_second_order_with_the_same_reference(event, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(external_reference="WEB-9")
    other = make_order()
    with pytest.raises(IntegrityError):
        Order.objects.filter(pk=other.pk).update(external_reference="WEB-9")


ERROR_CASES = [
    ("WEB-1,Ada,ada@example.com,,Seated,1,,,,,", "Unknown ticket type 'Seated'"),
    ("WEB-1,Ada,ada@@example.com,,Standing,1,,,,,", "Email “ada@@example.com”:"),
    ("WEB-1,Ada,ada@localhost,,Standing,1,,,,,", "not a domain on the internet"),
    ("WEB-1,Ada,ada\u200b@example.com,,Standing,1,,,,,", "invisible character"),
    ("WEB-1,Ada,ada@example.com,,Standing,0,,,,,", "Quantity '0' must be a whole number"),
    ("WEB-1,Ada,ada@example.com,,Standing,two,,,,,", "Quantity 'two'"),
    ("WEB-1,Ada,ada@example.com,,Standing,1,-5,,,,", "Price '-5' must be an amount in EUR"),
    ("WEB-1,Ada,ada@example.com,,Standing,1,12.345,,,,", "Price '12.345'"),
    ("WEB-1,Ada,ada@example.com,,Standing,1,,yesterday,,,", "Paid at 'yesterday'"),
    ("WEB-1,Ada,ada@example.com,,VIP,1,,,Charles,,", "Missing or bad attendee data: attendee email"),
    ("WEB-1,Ada,ada@example.com,,VIP,1,,,Charles,c@example.com,", "Missing or bad attendee data: Company"),
    ("WEB-1,Ada,ada@example.com,,VIP,2,,,,,", "needs each attendee's details: write one row per ticket"),
    (",Ada,ada@example.com,,Standing,1,,,,,", "The reference is missing"),
    ("WEB-1,,ada@example.com,,Standing,1,,,,,", "The contact name is missing"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "message"), ERROR_CASES)
def test_the_preview_names_each_problem_with_its_row(manager, event, standing, vip, row, message):
    run = create(manager, event, csv_bytes("WEB-0,Ok,ok@example.com,,Standing,1,,,,,", row))
    assert run.error_count >= 1
    assert any(e["row"] == 3 and message in e["message"] for e in run.errors), run.errors
    assert run.order_count == 1  # the good order is still counted; the bad one isn't
    with pytest.raises(Exception, match="Fix the rows"):
        import_run_start(actor=manager, run=run, send_tickets=False)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_duplicate_references_and_rows_in_the_file_are_problems(manager, event, standing):
    run = create(
        manager,
        event,
        csv_bytes(
            "WEB-1,Ada,ada@example.com,,Standing,1,,,,,",
            "WEB-2,Bob,bob@example.com,,Standing,1,,,,,",
            "WEB-1,Ada,ada@example.com,,Standing,1,,,,,",
            "WEB-2,Bob,bob@example.com,,Standing,1,,,,,",
            "WEB-2,Rob,rob@example.com,,Standing,2,,,,,",
        ),
    )
    messages = {e["row"]: e["message"] for e in run.errors}
    assert "Duplicate reference WEB-1: already on row 2" in messages[4]
    assert "Same as row 3" in messages[5]
    assert "with another contact" in messages[6]


@pytest.mark.django_db
def test_a_missing_column_is_one_clear_problem(manager, event, standing):
    run = create(manager, event, csv_bytes("WEB-1,Ada,Standing", header="reference,name,ticket_type"))
    assert run.errors == [{"row": 1, "reference": "", "message": "Missing column: email (see the template)."}]


@pytest.mark.django_db
def test_over_capacity_rows_are_problems(manager, event, standing):
    standing.capacity = 3
    standing.save()
    run = create(
        manager,
        event,
        csv_bytes("WEB-1,Ada,ada@example.com,,Standing,2,,,,,", "WEB-2,Bob,bob@example.com,,Standing,2,,,,,"),
    )
    assert [e["row"] for e in run.errors] == [3]
    assert "Over capacity: 1 ticket of 'Standing' left (capacity 3) for 2." in run.errors[0]["message"]


@pytest.mark.django_db
def test_a_failure_late_in_the_write_leaves_nothing_behind(manager, event, standing, monkeypatch):
    rows = [f"WEB-{n},Guest {n},guest{n}@example.com,,Standing,1,,,,," for n in range(5000)]
    run = create(manager, event, csv_bytes(*rows))
    assert run.order_count == 5000
    real = imports._write_batch
    batches = []

    def write_then_fail_on_the_last(run, planned):
        real(run, planned)
        batches.append(len(planned))
        if sum(batches) == 5000:  # every order written: now the last step fails
            Payment.objects.create(
                organisation_id=event.organisation_id,
                order=Order.objects.last(),
                provider="manual",
                amount=Decimal("-1"),
            )

    monkeypatch.setattr(imports, "_write_batch", write_then_fail_on_the_last)
    run = run_import(manager, run)
    assert batches == [2000, 2000, 1000]
    assert run.status == "failed" and "nothing was imported" in run.failure
    assert not Order.objects.filter(event=event).exists()
    assert not Ticket.objects.filter(event=event).exists()
    assert not TimelineEntry.objects.exists()


@pytest.mark.django_db
def test_running_twice_or_confirming_twice_imports_once(manager, event, standing):
    run = create(manager, event, csv_bytes("WEB-1,Ada,ada@example.com,,Standing,1,,,,,"))
    import_run_start(actor=manager, run=run, send_tickets=False)
    import_run_start(actor=manager, run=run, send_tickets=False)
    import_run_execute(run.pk)
    assert import_run_execute(run.pk).status == "done"
    assert Order.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_a_change_after_the_preview_is_caught_when_the_import_runs(manager, event, standing):
    run = create(manager, event, csv_bytes("WEB-1,Ada,ada@example.com,,Standing,1,,,,,"))
    standing.name = "Standing (old)"
    standing.save()
    run = run_import(manager, run)
    assert run.status == "failed" and "Unknown ticket type" in run.errors[0]["message"]
    assert not Order.objects.exists()


# --- Hostile files --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_latin_1_file_with_semicolons_is_read(manager, event, standing):
    data = "reference;name;email;ticket_type\nWEB-1;Jürgen Müller;juergen@example.com;Standing\n".encode("latin-1")
    run = create(manager, event, data)
    assert run.error_count == 0 and run.order_count == 1
    run_import(manager, run)
    assert Order.objects.get().contact_name == "Jürgen Müller"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("orders.csv", b"", "empty"),
        ("orders.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000), "not a text file"),
        ("orders.csv", os.urandom(10_000_000).replace(b"\x00", b""), "character encoding"),
        ("orders.xlsx", b"this is no workbook", "not an Excel workbook"),
        ("orders.xlsx", b"PK\x03\x04broken zip", "not an Excel workbook"),
        ("orders.csv", b'reference,name\n"WEB-1,' + b"x" * 200_000 + b'"\n', "can't be read near row"),
    ],
)
def test_hostile_files_get_a_clear_error(name, data, message):
    with pytest.raises(ImportFileError, match=message):
        file_read(name, data)


@pytest.mark.django_db
def test_garbage_text_is_a_clear_problem_not_a_crash(manager, event, standing):
    with pytest.raises(ImportFileError, match="100001 columns; an order file has at most 60"):
        create(manager, event, bytes(range(32, 127)) * 100_000)  # 9.5 MB of printable garbage
    run = create(manager, event, b"no header here\n" + b"just text\n" * 50_000)
    assert run.error_count == 1 and "Missing columns: reference, name, email, ticket_type" in run.errors[0]["message"]


@pytest.mark.django_db
def test_a_huge_field_below_the_csv_limit_is_a_row_problem(manager, event, standing):
    run = create(manager, event, csv_bytes(f"WEB-1,{'A' * 5000},ada@example.com,,Standing,1,,,,,"))
    assert "is 5,000 characters long" in run.errors[0]["message"]


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused(manager, event, standing, settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(ImportFileError, match="larger than"):
        create(manager, event, csv_bytes(*["WEB-1,Ada,ada@example.com,,Standing,1,,,,,"] * 50))


def xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_an_excel_file_is_read_and_a_formula_cell_is_refused_never_computed(manager, event, standing):
    data = xlsx(
        [
            ["reference", "name", "email", "ticket_type", "quantity", "price"],
            ["WEB-1", "Ada", "ada@example.com", "Standing", 2, 35.5],
            ["WEB-2", "=1+1", "bob@example.com", "Standing", 1, None],
        ]
    )
    run = create(manager, event, data, name="orders.xlsx")
    assert run.errors == [
        {
            "row": 3,
            "reference": "WEB-2",
            "message": "Column 2 holds a formula: paste the values instead (nothing is calculated).",
        }
    ]
    assert run.ticket_count == 2


@pytest.mark.django_db
def test_a_formula_as_the_reference_is_a_row_problem_stored_without_its_mark(manager, event, standing):
    """The attack of session 6: the mark a formula cell's text carries reached PostgreSQL in the error list."""
    data = xlsx(
        [
            ["reference", "name", "email", "ticket_type", "quantity"],
            ['=HYPERLINK("http://evil.example","x")', "Ada", "ada@example.com", "Standing", 1],
        ]
    )
    run = create(manager, event, data, name="orders.xlsx")
    run.refresh_from_db()
    assert run.errors == [
        {
            "row": 2,
            "reference": '=HYPERLINK("http://evil.example","x")',
            "message": "Column 1 holds a formula: paste the values instead (nothing is calculated).",
        }
    ]


def test_a_workbook_with_an_overlong_cell_or_too_much_text_is_refused_while_reading(settings, monkeypatch):
    """A .xlsx is compressed: its cells are checked while it is read, before a table of gigabytes is built."""
    from orders import import_files

    with pytest.raises(ImportFileError, match="a cell of 5,000 characters"):
        file_read("orders.xlsx", xlsx([["reference", "name"], ["WEB-1", "x" * 5000]]))
    monkeypatch.setattr(import_files, "MAX_XLSX_TEXT", 2_000)
    rows = [["reference", "name"], *[[f"WEB-{i}", "y" * 900] for i in range(5)]]
    with pytest.raises(ImportFileError, match="more than 2,000 characters"):
        file_read("orders.xlsx", xlsx(rows))


def test_exported_values_cant_become_formulas():
    assert [csv_safe(v) for v in ["=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx", "Ada"]] == [
        "'=SUM(A1)",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "Ada",
    ]


# --- Permissions ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "support"])
def test_viewers_and_support_may_not_import(member, event, standing, role):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create(member(role), event, csv_bytes(*GOOD))


@pytest.mark.django_db
def test_another_organisation_and_another_region_are_404(event, standing, other_organisation, organisation):
    outsider = MembershipFactory(organisation=other_organisation, role="owner").user
    with pytest.raises(Http404):
        create(outsider, event, csv_bytes(*GOOD))
    event.region = RegionFactory(organisation=organisation)
    event.save()
    limited = MembershipFactory(
        organisation=organisation, role="manager", regions=[RegionFactory(organisation=organisation)]
    ).user
    with pytest.raises(Http404):
        create(limited, event, csv_bytes(*GOOD))


# --- The pages ------------------------------------------------------------------------------------------------


@pytest.fixture
def tasks_in_process():
    from celery import current_app

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = eager


def pages(org, event):
    base = f"/o/{org.slug}/events/{event.public_id}/import/"
    return base


@pytest.mark.django_db
def test_upload_preview_confirm_and_progress_pages(
    client, manager, organisation, event, standing, vip, tasks_in_process, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(manager)
    base = pages(organisation, event)
    page = client.get(base)
    assert page.status_code == 200 and b"Download the template" in page.content
    template = client.get(base + "template.csv")
    assert template["Content-Type"].startswith("text/csv")
    assert template.content.decode().splitlines()[0] == HEADER

    bad = csv_bytes(GOOD[0], GOOD[1], "WEB-2,Grace Hopper,grace@example,,Standing,1,,,,,")
    answer = client.post(base, {"file": SimpleUploadedFile("orders.csv", bad)})
    run = ImportRun.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"{base}{run.pk}/"
    preview = client.get(answer["Location"]).content.decode()
    assert "1 row problem" in preview and "grace@example" in preview and "Import 1 order" not in preview
    problems = client.get(f"{base}{run.pk}/problems.csv").content.decode()
    assert problems.splitlines()[0] == "row,reference,problem" and "grace@example" in problems

    answer = client.post(base, {"file": SimpleUploadedFile("orders.csv", csv_bytes(*GOOD))})
    run = ImportRun.objects.latest("pk")
    assert "Import 2 orders" in client.get(answer["Location"]).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{base}{run.pk}/confirm/", {"send_tickets": ""})
    run.refresh_from_db()
    assert run.status == "done" and Order.objects.filter(event=event).count() == 2
    status = client.get(f"{base}{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert (
        status.strip().startswith('<div id="import-status"')
        and "Imported 2 orders" in status
        and "hx-get" not in status
    )


@pytest.mark.django_db
def test_a_running_import_polls_its_progress(client, manager, organisation, event, standing):
    client.force_login(manager)
    run = create(manager, event, csv_bytes(*GOOD[:1]))
    ImportRun.objects.filter(pk=run.pk).update(status="running")
    status = client.get(f"{pages(organisation, event)}{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in status and "<progress" in status


@pytest.mark.django_db
def test_an_unreadable_file_is_a_form_error_not_a_500(client, manager, organisation, event, standing):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(manager)
    answer = client.post(pages(organisation, event), {"file": SimpleUploadedFile("orders.csv", b"\x00\x01binary")})
    assert answer.status_code == 400 and "not a text file" in answer.content.decode()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_another_events_run_is_404(client, manager, organisation, event, standing):
    from tests.factories import EventFactory

    client.force_login(manager)
    run = create(manager, event, csv_bytes(*GOOD[:1]))
    other = EventFactory(organisation=organisation)
    assert client.get(f"{pages(organisation, other)}{run.pk}/").status_code == 404


@pytest.mark.django_db
def test_an_order_code_or_ticket_id_in_use_is_drawn_again(manager, event, standing, make_order, monkeypatch):
    from tests.organiser_portal.test_code_collisions import drawing

    taken = make_order(quantity=1)
    codes = drawing(monkeypatch, imports, "new_order_code", [taken.code])
    ids = drawing(monkeypatch, imports, "new_ticket_id", [taken.tickets.get().public_id])
    run = run_import(manager, create(manager, event, csv_bytes(*GOOD[:1])))
    assert run.status == "done"
    imported = Order.objects.get(external_reference="WEB-1")
    assert codes[0] == taken.code != imported.code and ids[0] not in set(
        imported.tickets.values_list("public_id", flat=True)
    )
