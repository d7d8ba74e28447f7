from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .permissions import access_organisation, organisations_for
from .selectors import events_visible, regions_visible


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Send the user to the last organisation they worked in, or their first one."""
    organisations = organisations_for(request.user)
    last = request.session.get("organisation")
    organisation = organisations.filter(slug=last).first() if last else None
    organisation = organisation or organisations.first()
    if organisation is None:
        return render(request, "organiser_portal/no_organisation.html", status=403)
    return redirect("my_events", org=organisation.slug)


@login_required
def my_events(request: HttpRequest, org: str) -> HttpResponse:
    access = access_organisation(request.user, org)
    request.session["organisation"] = org
    regions = list(regions_visible(access))
    region_id = _int_or_none(request.GET.get("region"))
    if region_id is not None and region_id not in {r.pk for r in regions}:
        region_id = None
    events = events_visible(access, region_id=region_id)
    return render(
        request,
        "organiser_portal/my_events.html",
        {"access": access, "events": events, "regions": regions, "region_id": region_id},
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
