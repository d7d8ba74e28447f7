from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .permissions import organisations_for, page_access, region_remember
from .selectors import regions_visible


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
def region_choose(request: HttpRequest, org: str) -> HttpResponse:
    """Header → Region: the region every list and the search show for the rest of the session, or all of them.

    GET shows the choice; POST `region` (an id, or empty for every region) keeps it and returns to `next`.
    A region the user's membership doesn't allow is refused with a message (400) and nothing changes.
    """
    access = page_access(request, org)
    regions = list(regions_visible(access))
    back = _safe_next(request, request.POST.get("next") or request.GET.get("next"), org)
    error = ""
    if request.method == "POST":
        chosen = request.POST.get("region", "")
        region = next((r for r in regions if str(r.pk) == chosen), None)
        if region is not None or chosen == "":
            region_remember(request, access, region)
            return redirect(back)
        error = "That region isn't one you may choose. Pick one of the regions below."
    context = {"access": access, "regions": regions, "next": back, "error": error}
    return render(request, "organiser_portal/region_choose.html", context, status=400 if error else 200)


def _safe_next(request: HttpRequest, url: str | None, org: str) -> str:
    """`url` when it is a page of this site, else My events."""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse("my_events", kwargs={"org": org})
