"""Import of orders sold elsewhere into an event: upload and check, then confirm, then one all-or-nothing write.

    import_run_create(actor, event, file_name, data)   → ImportRun (checked; its errors and counts stored)
    import_run_start(actor, run, send_tickets)         → ImportRun (queued; the task is sent after commit)
    import_run_execute(run_id)                         → ImportRun (done or failed; the task calls it)
    import_run_orders(run, offset, limit)              → the orders the run wrote, in the file's order (a read)

Every imported order is paid (a confirmed "manual" payment, method "Imported", referencing the other system's
order), its tickets are issued, and it has one timeline entry "order.imported" naming the file, the run and who
ran it. With `send_tickets` the tickets email of each order is queued through the outbox; without it the orders
are held for review ("order.imported_held"; sent with "Send held tickets"), so none waits unseen. The import is
idempotent by (event, reference): a reference imported before is skipped, and the database refuses a second
order with it (Order's unique constraint), so two imports of one file racing can't both write.

The write happens in one transaction: a failure at any row leaves nothing behind. Its progress can't be read
from the run's row while that transaction is open (no other connection sees it), so it goes to the cache
(`import_progress`), and the row holds the status, the counts and the final figures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from notifications.models import OutgoingMessage
from notifications.services import message_queue
from organiser_portal.cache import BestEffortCache
from organiser_portal.codes import new_order_code, new_secret, new_ticket_id, with_fresh_codes
from organiser_portal.models import Event
from organiser_portal.permissions import Perm, require_perm
from tickets.models import Ticket

from .capacity import capacity_reserve
from .errors import OrderActionError
from .import_check import ImportCheck, PlannedOrder, check_errors, import_check
from .import_files import ImportFileError, file_read
from .models import IMPORTED, ImportRun, Order, OrderLine, Payment, TimelineEntry
from .pricing import line_amounts

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

IMPORT_TASK = "orders.tasks.import_run"
BATCH = 2000
Status = ImportRun.Status
_progress = BestEffortCache()


def _progress_key(run_id: int) -> str:
    return f"import-run:{run_id}:progress"


def import_progress(run: ImportRun) -> int:
    """Orders written so far: the cache while the write runs, the row's figure otherwise."""
    if run.status == Status.RUNNING:
        return int(_progress.get(_progress_key(run.pk)) or 0)
    return run.progress


def import_run_orders(run: ImportRun, *, offset: int = 0, limit: int = 50) -> list[Order]:
    """The orders a done run wrote, in the file's order: `limit` of them from `offset`, each with its `lines`
    (and their ticket types) prefetched. Found through their "order.imported…" timeline entry naming the run
    (the partial index timeline_run), so a page costs the same in a large event as in a small one."""
    entries = TimelineEntry.objects.filter(
        organisation_id=run.organisation_id, action__in=IMPORTED, data__run=run.pk
    ).order_by("id")
    ids = list(entries.values_list("order_id", flat=True)[offset : offset + limit])
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("ticket_type").order_by("pk"))
    orders = Order.objects.filter(pk__in=ids, event_id=run.event_id).prefetch_related(lines)
    by_id = {order.pk: order for order in orders}
    return [by_id[pk] for pk in ids if pk in by_id]


def import_run_create(*, actor: User, event: Event, file_name: str, data: bytes) -> ImportRun:
    """Read and check an uploaded file and keep it with what the check found; nothing else is written.

    Raises ImportFileError when the file can't be read at all (the run is not kept), OrderActionError for a
    file above IMPORT_MAX_BYTES, Http404 / PermissionDenied without Perm.IMPORT on the event's region."""
    require_perm(actor, event.organisation, Perm.IMPORT, region_id=event.region_id)
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(f"The file is larger than {settings.IMPORT_MAX_BYTES // 1_000_000} MB: split it.")
    check = import_check(event, file_read(file_name, data))
    run = ImportRun(
        organisation_id=event.organisation_id,
        event=event,
        created_by=actor,
        file_name=file_name[:200],
        content=data,
        send_tickets=event.send_tickets_automatically,
    )
    _store_check(run, check)
    run.save()
    return run


def _store_check(run: ImportRun, check: ImportCheck) -> None:
    run.row_count, run.order_count, run.ticket_count = check.rows, len(check.orders), check.tickets
    run.already_imported = check.already_imported
    run.error_count, run.errors = check_errors(check)


def import_run_start(*, actor: User, run: ImportRun, send_tickets: bool) -> ImportRun:
    """Confirm a checked run without errors: it is queued and the task sent after commit. Confirming twice
    starts it once. Raises OrderActionError for a run with errors, nothing to import, or already finished."""
    require_perm(actor, run.event.organisation, Perm.IMPORT, region_id=run.event.region_id)
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().select_related("event").get(pk=run.pk)
        if run.status in (Status.QUEUED, Status.RUNNING):
            return run
        if run.status != Status.CHECKED:
            raise OrderActionError(f"This import is {run.get_status_display().lower()} already.")
        if run.error_count:
            raise OrderActionError("Fix the rows with problems and upload the file again: nothing was imported.")
        if not run.order_count:
            raise OrderActionError("Nothing to import: every order in the file was imported before.")
        run.status, run.send_tickets = Status.QUEUED, send_tickets
        run.save(update_fields=["status", "send_tickets"])
        transaction.on_commit(lambda: _send_task(run.pk))
    return run


def _send_task(run_id: int) -> None:
    """Hand the run to a worker (in process with the embedded default). A broker that refuses puts the run back
    to checked, so the agent can start it again; nothing was written."""
    try:
        current_app.signature(IMPORT_TASK, args=(run_id,)).apply_async(retry=False)
    except Exception:
        log.warning("Could not queue import %s; it can be started again", run_id, exc_info=True)
        ImportRun.objects.filter(pk=run_id, status=Status.QUEUED).update(status=Status.CHECKED)


def import_run_execute(run_id: int) -> ImportRun:
    """Run a queued import: check the file again (things may have changed since the preview), then write
    every order in one transaction. Safe to call twice: only a queued run runs. Never raises for the file's
    content: a run that can't be imported ends `failed` with the reason (and, when rows are at fault, its errors)."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=run_id, status=Status.QUEUED).first()
        if run is None:
            return ImportRun.objects.get(pk=run_id)
        run.status, run.started_at = Status.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    run = ImportRun.objects.select_related("event__organisation", "created_by").get(pk=run_id)
    try:
        check = import_check(run.event, file_read(run.file_name, bytes(run.content)))
        if check.errors:
            _store_check(run, check)
            return _finish(run, Status.FAILED, "The rows changed meaning since the preview: see the problems below.")
        written = _write(run, check.orders)
    except (ImportFileError, OrderActionError) as error:
        return _finish(run, Status.FAILED, str(error))
    except Exception:
        log.exception("Import %s failed", run_id)
        return _finish(run, Status.FAILED, "The import failed on our side and was undone: nothing was imported.")
    run.progress = written
    return _finish(run, Status.DONE, "")


def _finish(run: ImportRun, status: str, failure: str) -> ImportRun:
    run.status, run.failure, run.finished_at = status, failure[:500], timezone.now()
    figures = ["row_count", "order_count", "ticket_count", "already_imported", "error_count", "errors", "progress"]
    run.save(update_fields=["status", "failure", "finished_at", *figures])  # not the stored file again
    return run


def _write(run: ImportRun, planned: Sequence[PlannedOrder]) -> int:
    """Every planned order with its lines, payment, tickets and timeline entries, in one transaction."""
    event = run.event
    with transaction.atomic():
        Event.objects.select_for_update().filter(pk=event.pk).first()  # one import of an event at a time
        stored = (
            Order.objects.filter(event=event)
            .exclude(external_reference="")
            .values_list("external_reference", flat=True)
        )
        if {p.reference for p in planned}.intersection(stored.iterator(chunk_size=10_000)):
            raise OrderActionError("Some of these orders were imported meanwhile: upload the file again.")
        capacity_reserve((line.ticket_type, line.quantity) for p in planned for line in p.lines)
        for start in range(0, len(planned), BATCH):
            _write_batch(run, planned[start : start + BATCH])
            _progress.set(_progress_key(run.pk), start + len(planned[start : start + BATCH]), 3600)
    return len(planned)


def _write_batch(run: ImportRun, planned: Sequence[PlannedOrder]) -> None:
    event, actor = run.event, run.created_by
    held = not run.send_tickets
    orders: list[Order] = []
    for p in planned:
        order = Order(
            organisation_id=event.organisation_id,
            event=event,
            contact_name=p.name,
            contact_email=p.email,
            contact_phone=p.phone,
            external_reference=p.reference,
            status=Order.Status.PAID,
            currency=event.currency,
            created_at=p.paid_at,
            paid_at=p.paid_at,
            tickets_held=held,
        )
        orders.append(order)
    lines: list[OrderLine] = []
    for order, p in zip(orders, planned, strict=True):
        for plan in p.lines:
            tt = plan.ticket_type
            amounts = line_amounts(
                price=tt.price + tt.booking_fee if plan.price is None else plan.price,
                booking_fee=Decimal("0"),
                tax_rate=tt.tax_rate,
                quantity=plan.quantity,
                currency=event.currency,
            )
            order.total += amounts.gross
            lines.append(
                OrderLine(
                    organisation_id=event.organisation_id,
                    order=order,
                    ticket_type=tt,
                    quantity=plan.quantity,
                    unit_price=amounts.unit_price,
                    booking_fee=amounts.booking_fee,
                    tax=amounts.tax,
                )
            )

    def create_orders() -> list[Order]:
        for order in orders:
            order.code = new_order_code()
        return Order.objects.bulk_create(orders)

    def orders_collided() -> bool:
        codes = [o.code for o in orders]
        return Order.objects.filter(organisation_id=event.organisation_id, code__in=codes).exists()

    with_fresh_codes(create_orders, collided=orders_collided)
    for line in lines:
        line.order_id = line.order.pk
    OrderLine.objects.bulk_create(lines)
    tickets = _tickets(run, orders, planned, lines)

    def create_tickets() -> list[Ticket]:
        for ticket in tickets:
            ticket.public_id, ticket.secret = new_ticket_id(), new_secret()
        return Ticket.objects.bulk_create(tickets)

    def tickets_collided() -> bool:
        ids, secrets = [t.public_id for t in tickets], [t.secret for t in tickets]
        return Ticket.objects.filter(Q(public_id__in=ids) | Q(secret__in=secrets)).exists()

    with_fresh_codes(create_tickets, collided=tickets_collided)
    Payment.objects.bulk_create(
        Payment(
            organisation_id=event.organisation_id,
            order=order,
            provider="manual",
            method="Imported",
            reference=order.external_reference,
            amount=order.total,
            status=Payment.Status.CONFIRMED,
            created_at=order.created_at,
            confirmed_at=order.paid_at,
        )
        for order in orders
    )
    source = f"{run.file_name} (import {run.pk})"
    entries = [  # one entry per order, which also says when its tickets are held
        TimelineEntry(
            organisation_id=event.organisation_id,
            order=order,
            actor=actor,
            actor_kind=TimelineEntry.ActorKind.USER,
            action="order.imported_held" if held else "order.imported",
            data={"source": source, "run": run.pk, "file": run.file_name, "reference": order.external_reference},
        )
        for order in orders
    ]
    TimelineEntry.objects.bulk_create(entries)
    if not held:
        for order in orders:
            message_queue(order=order, kind=OutgoingMessage.Kind.TICKETS, recipient=order.contact_email, actor=actor)


def _tickets(
    run: ImportRun, orders: Sequence[Order], planned: Sequence[PlannedOrder], lines: Sequence[OrderLine]
) -> list[Ticket]:
    event = run.event
    tickets: list[Ticket] = []
    stored = iter(lines)
    for order, p in zip(orders, planned, strict=True):
        for plan in p.lines:
            line = next(stored)
            attendee = plan.attendee
            for _ in range(plan.quantity):
                tickets.append(
                    Ticket(
                        organisation_id=event.organisation_id,
                        event_id=event.pk,
                        order=order,
                        line=line,
                        ticket_type_id=plan.ticket_type.pk,
                        attendee_name=attendee.name if attendee and attendee.name else order.contact_name,
                        attendee_email=attendee.email if attendee else "",
                        attendee_data=attendee.data if attendee and plan.ticket_type.requires_personal_data else {},
                        created_at=order.paid_at or order.created_at,
                    )
                )
    return tickets
