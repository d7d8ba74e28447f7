"""An event's door pages: the Door tab (access areas, access points, scanner devices; managers) and the scan log.

Every page is scoped to the organisation in its URL and the member's regions (another's event is a 404); the
door setup needs Perm.MANAGE_DOOR, which the services check again. Changes answer with a redirect to the
Door tab (the new device's token alone is shown on the answer itself, this once).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from organiser_portal.ids import parse_id
from organiser_portal.models import Event
from organiser_portal.permissions import Access, Perm, page_access
from organiser_portal.selectors import event_get

from .door import DoorError, door_area_save, door_device_add, door_device_place, door_device_revoke, door_point_add
from .forms import AreaForm, DeviceForm, PlaceForm, PointForm, ScanLogForm, area_form_for
from .selectors import door_area_get, door_device_get, door_setup, scan_log

# Element ids of the page's forms: one page holds several forms with the same field names.
NEW_AREA_ID, DEVICE_ID = "new_area_%s", "new_device_%s"


def _door_access(request: HttpRequest, org: str, event_id: str) -> tuple[Access, Event]:
    access = page_access(request, org)
    event = event_get(access, event_id)
    access.require(Perm.MANAGE_DOOR)
    return access, event


def _door_page(request: HttpRequest, access: Access, event: Event, status: int = 200, **state) -> HttpResponse:
    """The Door tab. `state` may hold a form that failed (area_form with failed_area, point_form with
    failed_area, device_form, place_error with failed_device) shown in place of its blank twin, or the
    device just created and its token (new_device, new_token)."""
    setup = door_setup(event)
    failed_area, failed_device = state.get("failed_area"), state.get("failed_device")
    for area in setup.areas:
        failed = failed_area is not None and failed_area.pk == area.pk
        area.edit_form = (failed and state.get("area_form")) or area_form_for(event, area)  # type: ignore[attr-defined]
        area.point_form = (failed and state.get("point_form")) or PointForm(auto_id=f"point{area.pk}_%s")  # type: ignore[attr-defined]
    for device in setup.devices:
        device.place_form = PlaceForm(  # type: ignore[attr-defined]
            event=event, auto_id=f"device{device.pk}_%s", initial={"access_point": device.access_point_id}
        )
        device.error = state.get("place_error") if failed_device and failed_device.pk == device.pk else ""  # type: ignore[attr-defined]
    context = {
        "access": access,
        "event": event,
        "tab": "door",
        "setup": setup,
        "new_area_form": (failed_area is None and state.get("area_form")) or AreaForm(event=event, auto_id=NEW_AREA_ID),
        "device_form": state.get("device_form") or DeviceForm(event=event, auto_id=DEVICE_ID),
        "new_device": state.get("new_device"),
        "new_token": state.get("new_token"),
    }
    return render(request, "tickets/event_door.html", context, status=status)


def _back(event: Event, access: Access, text: str, request: HttpRequest) -> HttpResponse:
    messages.success(request, text)
    return redirect("event_door", org=access.organisation.slug, event_id=event.public_id)


@login_required
def event_door(request: HttpRequest, org: str, event_id: str) -> HttpResponse:
    access, event = _door_access(request, org, event_id)
    return _door_page(request, access, event)


@login_required
@require_POST
def door_area_post(request: HttpRequest, org: str, event_id: str) -> HttpResponse:
    """Add an access area, or (with `area`) change one: its name and the ticket types it admits."""
    access, event = _door_access(request, org, event_id)
    raw_area = request.POST.get("area", "")
    area = door_area_get(event, parse_id(raw_area) or 0) if raw_area else None  # 0: not an id, a 404
    form = AreaForm(request.POST, event=event, auto_id=f"area{area.pk}_%s" if area else NEW_AREA_ID)
    if form.is_valid():
        try:
            saved = door_area_save(actor=request.user, event=event, area=area, **form.cleaned_data)
        except DoorError as error:
            form.add_error(None, str(error))
        else:
            return _back(event, access, f"Access area {saved.name} saved.", request)
    return _door_page(request, access, event, status=400, area_form=form, failed_area=area)


@login_required
@require_POST
def door_point_post(request: HttpRequest, org: str, event_id: str, area_id: int) -> HttpResponse:
    access, event = _door_access(request, org, event_id)
    area = door_area_get(event, area_id)
    form = PointForm(request.POST, auto_id=f"point{area.pk}_%s")
    if form.is_valid():
        try:
            point = door_point_add(actor=request.user, area=area, name=form.cleaned_data["name"])
        except DoorError as error:
            form.add_error(None, str(error))
        else:
            return _back(event, access, f"Access point {point.name} added to {area.name}.", request)
    return _door_page(request, access, event, status=400, point_form=form, failed_area=area)


@login_required
@require_POST
def door_device_post(request: HttpRequest, org: str, event_id: str) -> HttpResponse:
    """A new scanner device: its token is on this answer alone (only its SHA-256 is stored)."""
    access, event = _door_access(request, org, event_id)
    form = DeviceForm(request.POST, event=event, auto_id=DEVICE_ID)
    if form.is_valid():
        try:
            device, token = door_device_add(actor=request.user, event=event, **form.cleaned_data)
        except DoorError as error:
            form.add_error(None, str(error))
        else:
            return _door_page(request, access, event, new_device=device, new_token=token)
    return _door_page(request, access, event, status=400, device_form=form)


@login_required
@require_POST
def door_device_change(request: HttpRequest, org: str, event_id: str, device_id: int) -> HttpResponse:
    """Stand a device at another access point, or (`revoke`) revoke its token."""
    access, event = _door_access(request, org, event_id)
    device = door_device_get(event, device_id)
    try:
        if "revoke" in request.POST:
            door_device_revoke(actor=request.user, device=device)
            return _back(event, access, f"{device.name} is revoked: its scans are refused from now on.", request)
        form = PlaceForm(request.POST, event=event)
        if not form.is_valid():
            raise DoorError("Choose one of this event's access points.")
        placed = door_device_place(actor=request.user, device=device, access_point=form.cleaned_data["access_point"])
    except DoorError as error:
        return _door_page(request, access, event, status=400, place_error=str(error), failed_device=device)
    where = placed.access_point.name if placed.access_point else "no access point"
    return _back(event, access, f"{placed.name} now stands at {where}.", request)


@login_required
def event_scans(request: HttpRequest, org: str, event_id: str) -> HttpResponse:
    """The event's scan log, newest first, filtered by area, point, result and time; keyset paging."""
    access = page_access(request, org)
    event = event_get(access, event_id)
    form = ScanLogForm(request.GET or None, event=event)
    filters = form.filters()
    page = scan_log(event, filters, after=request.GET.get("after"), before=request.GET.get("before"))
    context = {"access": access, "event": event, "tab": "scans", "form": form, "filters": filters, "page": page}
    if getattr(request, "htmx", False) and request.htmx.target == "scan-table":  # type: ignore[attr-defined]
        return render(request, "tickets/event_scans.html#scan-table", context)
    return render(request, "tickets/event_scans.html", context)
