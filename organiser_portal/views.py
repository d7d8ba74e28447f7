from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .health import health_report
from .next_url import safe_next
from .permissions import Access, access_organisation, organisations_for, page_access, region_remember
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


# --- Refusal and not-found pages (settings DEBUG off; urls.py handler403 / handler404) ------------------
# Pages of the portal, with its layout, the reason in words and a way back, for plain and htmx requests alike
# (htmx leaves a 4xx answer unswapped, so an htmx caller shows nothing of it either way). 500.html is static.


def _error_context(request: HttpRequest) -> dict:
    """The header of the organisation the URL names, when the user belongs to it (else a bare header, as for
    any organisation not theirs: 404, never a hint that it exists), and the way back: My events, or the login."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    user = getattr(request, "user", None)
    access: Access | None = None
    if kwargs.get("org") and user is not None:
        try:
            access = access_organisation(user, kwargs["org"])
        except Http404:
            access = None
    if access is not None:
        back = (reverse("my_events", kwargs={"org": access.organisation.slug}), "Back to My events")
    elif user is not None and user.is_authenticated:
        back = (reverse("dashboard"), "Back to My events")
    else:
        back = (reverse("login"), "Log in")
    return {"access": access, "back_url": back[0], "back_label": back[1], "code": kwargs.get("code")}


def _reason(exception: Exception | None) -> str:
    """The message the code raised with ("No such order.", "Your role (Viewer) can't resend tickets"), when it
    is one written for people; Django's own (a URL that matches no page) carries a dict, not words."""
    message = exception.args[0] if exception is not None and exception.args else None
    return message.strip().rstrip(".") if isinstance(message, str) else ""


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: why not (the role's refusal from permissions.Access.require) and the way back, to the order
    when the refused page belongs to one."""
    context = {**_error_context(request), "refusal": _reason(exception) or "You may not open this page"}
    if context["access"] is not None and context["code"]:
        context["order"] = {"code": context["code"]}
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: what wasn't found ("No such order"), and where to look instead."""
    context = {**_error_context(request), "reason": _reason(exception) or "There is no page at this address"}
    return render(request, "404.html", context, status=404)


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
    """`url` when it is a page of this organisation on this site (organiser_portal.next_url.safe_next), else My
    events."""
    return safe_next(request, url, org) or reverse("my_events", kwargs={"org": org})


def health(request: HttpRequest) -> JsonResponse:
    """GET /health/ for monitoring, without login: the database, Redis and the worker (organiser_portal.health)."""
    ok, body = health_report()
    response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response
