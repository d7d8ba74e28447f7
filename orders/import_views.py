"""Event → Import orders: upload a CSV or Excel file, read the preview, confirm, follow the progress.

Short views: the service checks the permission again (Perm.IMPORT: managers and owners) and does the work.
Another organisation's event or run, or an event outside the member's regions, is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from organiser_portal.models import Event
from organiser_portal.permissions import Access, Perm, page_access
from organiser_portal.selectors import event_get

from .errors import OrderActionError
from .import_check import template_header
from .import_files import ImportFileError, csv_write
from .import_forms import ImportStartForm, ImportUploadForm
from .imports import import_progress, import_run_create, import_run_orders, import_run_start
from .models import ImportRun


class AuthedRequest(HttpRequest):
    user: User  # every view here is login_required: the actor the service checks


ORDERS_PAGE = 50  # imported orders listed per page of a done run
TEMPLATE_EXAMPLE = ["WEB-1001", "Ada Lovelace", "ada@example.com", "+44 20 7946 0000", "", "2", "", "2026-05-01 18:30"]


def _event(request: HttpRequest, org: str, event_id: str) -> tuple[Access, Event]:
    access = page_access(request, org)
    event = event_get(access, event_id)
    access.require(Perm.IMPORT)
    return access, event


def _run(event: Event, run_id: int) -> ImportRun:
    run = ImportRun.objects.filter(pk=run_id, event=event).select_related("created_by").first()
    if run is None:
        raise Http404("No such import.")
    return run


@login_required
def import_upload(request: AuthedRequest, org: str, event_id: str) -> HttpResponse:
    """The upload form and the event's earlier imports; a posted file is checked and its preview opened."""
    access, event = _event(request, org, event_id)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = import_run_create(actor=request.user, event=event, file_name=upload.name, data=upload.read())
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("event_import_run", org=org, event_id=event.public_id, run_id=run.pk)
    runs = ImportRun.objects.filter(event=event).select_related("created_by").defer("content", "errors")[:10]
    context = {"access": access, "event": event, "tab": "import", "form": form, "runs": runs}
    return render(request, "orders/import_upload.html", context, status=400 if form.errors else 200)


def _imported(run: ImportRun, page: str | None) -> dict:
    """The page of the done run's orders the `page` parameter asks for (1 for anything unreadable or too far)."""
    pages = max(1, -(-run.progress // ORDERS_PAGE))
    number = (
        int(page) if page and page.isascii() and page.isdigit() and len(page) < 7 and 1 <= int(page) <= pages else 1
    )
    offset = (number - 1) * ORDERS_PAGE
    orders = import_run_orders(run, offset=offset, limit=ORDERS_PAGE)
    return {
        "orders": orders,
        "first": offset + 1,
        "last": offset + len(orders),
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
    }


@login_required
def import_run(request: HttpRequest, org: str, event_id: str, run_id: int) -> HttpResponse:
    """One import: its preview (counts and every row with a problem), the confirm form, or its progress; once
    done, the orders it created (a page of ORDERS_PAGE at a time, `?page=`), each linked to its order page."""
    access, event = _event(request, org, event_id)
    run = _run(event, run_id)
    context = {
        "imported": _imported(run, request.GET.get("page")) if run.status == ImportRun.Status.DONE else None,
        "access": access,
        "event": event,
        "tab": "import",
        "run": run,
        "progress": import_progress(run),
        "start_form": ImportStartForm(initial={"send_tickets": run.send_tickets}),
    }
    if getattr(request, "htmx", False):
        return render(request, "orders/import_run.html#import-status", context)
    return render(request, "orders/import_run.html", context)


@login_required
@require_POST
def import_run_confirm(request: AuthedRequest, org: str, event_id: str, run_id: int) -> HttpResponse:
    access, event = _event(request, org, event_id)
    run = _run(event, run_id)
    form = ImportStartForm(request.POST)
    send = form.is_valid() and form.cleaned_data["send_tickets"]
    try:
        run = import_run_start(actor=request.user, run=run, send_tickets=send)
    except OrderActionError as error:
        messages.error(request, str(error))
    return redirect("event_import_run", org=org, event_id=event.public_id, run_id=run.pk)


def _csv(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def import_template(request: HttpRequest, org: str, event_id: str) -> HttpResponse:
    """A CSV with the columns for this event and one example row per ticket type."""
    _access, event = _event(request, org, event_id)
    header = template_header(event)
    rows: list[list[str]] = [header]
    for number, ticket_type in enumerate(event.ticket_types.all(), start=1):
        example = [f"WEB-{1000 + number}", *TEMPLATE_EXAMPLE[1:]]
        example[4] = ticket_type.name
        attendee = ["", ""]
        if ticket_type.requires_personal_data:  # one row per ticket, with its attendee
            example[5], attendee = "1", ["Ada Lovelace", "ada@example.com"]
        example += attendee + [""] * (len(header) - 10)
        rows.append(example[: len(header)])
    return _csv(csv_write(rows), f"import-{event.public_id}.csv")


@login_required
def import_run_errors(request: HttpRequest, org: str, event_id: str, run_id: int) -> HttpResponse:
    """The rows with problems as CSV (row, reference, problem); values can't become formulas."""
    _access, event = _event(request, org, event_id)
    run = _run(event, run_id)
    rows = [["row", "reference", "problem"]]
    rows += [[str(e.get(key, "")) for key in ("row", "reference", "message")] for e in run.errors]
    return _csv(csv_write(rows), f"import-{run.pk}-problems.csv")
