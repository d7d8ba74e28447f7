from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .permissions import organisations_for


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
