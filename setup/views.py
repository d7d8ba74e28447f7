"""Organisation setup pages: Settings → Events, Team, Regions; an event's Settings tab; the invitation link.

Short views: parse the form → call one service (which checks the permission again and refuses with a
SetupError) → redirect with a message, or show the form again with its errors and nothing changed (400; a
refusal 409). Pages are scoped with `page_access`: another organisation, or an event or member not of this one,
is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy

from organiser_portal.models import Membership
from organiser_portal.permissions import Access, Perm, page_access
from organiser_portal.tokens import invitation_tokens, invitation_valid_for

from . import selectors
from .errors import SetupError
from .forms import EventForm, IdempotentForm, InviteForm, MemberForm, RegionForm, TicketTypeForm
from .services import (
    event_create,
    event_update,
    member_invite,
    member_name,
    member_resend_invitation,
    membership_remove,
    membership_update,
    region_create,
    region_delete,
    region_rename,
    ticket_type_create,
    ticket_type_delete,
    ticket_type_update,
)


class AuthedRequest(HttpRequest):
    user: User  # every view here is login_required: the actor a service checks


# Settings → its pages, in the order the sub-navigation shows them, with the permission each needs.
SETTINGS_PAGES: tuple[tuple[str, str, str, Perm], ...] = (
    ("events", "Events", "settings_events", Perm.MANAGE_EVENTS),
    ("team", "Team", "team", Perm.VIEW_MEMBERS),
    ("regions", "Regions", "regions", Perm.MANAGE_REGIONS),
)


def _settings_nav(access: Access, current: str) -> list[dict[str, Any]]:
    org = access.organisation.slug
    return [
        {"label": label, "url": reverse(url_name, kwargs={"org": org}), "current": key == current}
        for key, label, url_name, perm in SETTINGS_PAGES
        if access.can(perm)
    ]


def _page(request: HttpRequest, template: str, access: Access, context: dict[str, Any], form: Form | None = None):
    """Render a setup page: 400 when the form has errors, 409 when a service refused (its reason as the form's
    non-field error, marked `refused`), else 200."""
    status = 200
    if form is not None and form.errors:
        status = 409 if getattr(form, "refused", False) else 400
    return render(request, template, {"access": access, "form": form, **context}, status=status)


def _refuse(form: Form, error: SetupError | ValidationError) -> None:
    if isinstance(error, SetupError):
        form.refused = True  # type: ignore[attr-defined]
        form.add_error(None, str(error))
    else:
        form.add_error(None, error)


@login_required
def settings_home(request: AuthedRequest, org: str) -> HttpResponse:
    """Header → Settings: the first settings page the role may open."""
    access = page_access(request, org)
    pages = [url_name for _key, _label, url_name, perm in SETTINGS_PAGES if access.can(perm)]
    if not pages:
        access.require(Perm.MANAGE_EVENTS)  # refused, with the role's reason
    return redirect(pages[0], org=org)


# --- Team ----------------------------------------------------------------------------------------------


@login_required
def team(request: AuthedRequest, org: str) -> HttpResponse:
    """The team (managers see it, owners change it), the invitation form, and the audit list of team changes."""
    access = page_access(request, org)
    access.require(Perm.VIEW_MEMBERS)
    form = None
    if access.can(Perm.MANAGE_MEMBERS):
        form = InviteForm(request.POST if request.method == "POST" else None, access=access)
    if request.method == "POST":
        access.require(Perm.MANAGE_MEMBERS)
        assert form is not None
        if form.is_valid():
            try:
                membership, created = member_invite(
                    actor=request.user,
                    organisation=access.organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    region_ids=form.region_ids(),
                )
            except SetupError as error:
                _refuse(form, error)
            else:
                email = membership.user.email
                if created:
                    messages.success(request, f"Invited {email}: the invitation is on its way.")
                else:
                    messages.info(request, f"{email} is in the team already: nothing changed.")
                return redirect("team", org=org)
    context = {
        "settings_nav": _settings_nav(access, "team"),
        "members": selectors.team_members(access),
        "audit": selectors.audit_entries(access),
        "can_manage": access.can(Perm.MANAGE_MEMBERS),
        "valid_for": invitation_valid_for(),
    }
    return _page(request, "setup/team.html", access, context, form)


@login_required
def member_edit(request: AuthedRequest, org: str, membership_id: int) -> HttpResponse:
    """One member: role and regions; links to resend the invitation and to remove them."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_MEMBERS)
    membership = selectors.member_get(access, membership_id)
    form = MemberForm(request.POST if request.method == "POST" else None, access=access, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            membership_update(
                actor=request.user,
                organisation=access.organisation,
                membership_id=membership.pk,
                role=form.cleaned_data["role"],
                region_ids=form.region_ids(),
            )
        except SetupError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Saved {member_name(membership.user)}'s role and regions.")
            return redirect("team", org=org)
    context = {
        "settings_nav": _settings_nav(access, "team"),
        "membership": membership,
        "name": member_name(membership.user),
        "pending": not membership.user.has_usable_password(),
        "resend_form": IdempotentForm(),
    }
    return _page(request, "setup/member_edit.html", access, context, form)


@login_required
def member_resend(request: AuthedRequest, org: str, membership_id: int) -> HttpResponse:
    """POST: email the invitation again (once per form: its idempotency key)."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_MEMBERS)
    membership = selectors.member_get(access, membership_id)
    form = IdempotentForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return redirect("member_edit", org=org, membership_id=membership.pk)
    try:
        message = member_resend_invitation(
            actor=request.user,
            organisation=access.organisation,
            membership_id=membership.pk,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except SetupError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The invitation is on its way to {message.recipient} again.")
    return redirect("member_edit", org=org, membership_id=membership.pk)


@login_required
def member_remove(request: AuthedRequest, org: str, membership_id: int) -> HttpResponse:
    """Confirm, then take the member out of this organisation's team (their other memberships stay)."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_MEMBERS)
    membership = selectors.member_get(access, membership_id)
    form = Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership_remove(actor=request.user, organisation=access.organisation, membership_id=membership.pk)
        except SetupError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Removed {member_name(membership.user)} from the team.")
            return redirect("team", org=org)
    context = {
        "settings_nav": _settings_nav(access, "team"),
        "membership": membership,
        "name": member_name(membership.user),
        "role": Membership.Role(membership.role).label,
        "elsewhere": membership.user.memberships.exclude(pk=membership.pk).exists(),
    }
    return _page(request, "setup/member_remove.html", access, context, form)


# --- Regions -------------------------------------------------------------------------------------------


@login_required
def regions(request: AuthedRequest, org: str) -> HttpResponse:
    """The organisation's regions with their events and members, and a form for a new one."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_REGIONS)
    form = RegionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            region, created = region_create(
                actor=request.user, organisation=access.organisation, name=form.cleaned_data["name"]
            )
        except SetupError as error:
            _refuse(form, error)
        else:
            if created:
                messages.success(request, f"Created the region {region.name}.")
            else:
                messages.info(request, f"There is a region called {region.name} already: nothing changed.")
            return redirect("regions", org=org)
    context = {"settings_nav": _settings_nav(access, "regions"), "regions": selectors.regions_with_use(access)}
    return _page(request, "setup/regions.html", access, context, form)


@login_required
def region_edit(request: AuthedRequest, org: str, region_id: int) -> HttpResponse:
    """Rename a region."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_REGIONS)
    region = selectors.region_get(access, region_id)
    form = RegionForm(request.POST if request.method == "POST" else None, initial={"name": region.name})
    if request.method == "POST" and form.is_valid():
        try:
            region_rename(
                actor=request.user,
                organisation=access.organisation,
                region_id=region.pk,
                name=form.cleaned_data["name"],
            )
        except SetupError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Saved the region {form.cleaned_data['name']}.")
            return redirect("regions", org=org)
    context = {"settings_nav": _settings_nav(access, "regions"), "region": region}
    return _page(request, "setup/region_edit.html", access, context, form)


@login_required
def region_remove(request: AuthedRequest, org: str, region_id: int) -> HttpResponse:
    """Confirm, then delete a region no event uses."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_REGIONS)
    region = selectors.region_get(access, region_id)
    form = Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            region_delete(actor=request.user, organisation=access.organisation, region_id=region.pk)
        except SetupError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Deleted the region {region.name}.")
            return redirect("regions", org=org)
    context = {"settings_nav": _settings_nav(access, "regions"), "region": region}
    return _page(request, "setup/region_remove.html", access, context, form)


# --- Events --------------------------------------------------------------------------------------------


@login_required
def settings_events(request: AuthedRequest, org: str) -> HttpResponse:
    """Settings → Events: every event the member lists, with a link to its settings, and "New event"."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_EVENTS)
    context = {"settings_nav": _settings_nav(access, "events"), "events": selectors.settings_events(access)}
    return _page(request, "setup/events.html", access, context)


@login_required
def event_new(request: AuthedRequest, org: str) -> HttpResponse:
    access = page_access(request, org)
    access.require(Perm.MANAGE_EVENTS)
    form = EventForm(request.POST if request.method == "POST" else None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            event = event_create(
                actor=request.user,
                organisation=access.organisation,
                settings=form.settings(),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except (SetupError, ValidationError) as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Created {event.name}. Add its ticket types below.")
            return redirect("event_settings", org=org, event_id=event.public_id)
    return _page(request, "setup/event_new.html", access, {"settings_nav": _settings_nav(access, "events")}, form)


def _event_context(access: Access, event) -> dict[str, Any]:
    return {"event": event, "tab": "settings", "order_count": selectors.event_order_count(event)}


@login_required
def event_settings(request: AuthedRequest, org: str, event_id: str) -> HttpResponse:
    """An event's Settings tab: its settings form, its ticket types and the audit list of its changes."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_EVENTS)
    event = selectors.settings_event_get(access, event_id)
    form = EventForm(request.POST if request.method == "POST" else None, access=access, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            event_update(
                actor=request.user,
                organisation=access.organisation,
                public_id=event.public_id,
                settings=form.settings(),
            )
        except (SetupError, ValidationError) as error:
            _refuse(form, error)
        else:
            messages.success(request, "Saved the event's settings.")
            return redirect("event_settings", org=org, event_id=event.public_id)
    if request.method == "POST":  # show the event as stored beside the rejected form
        event.refresh_from_db()
    context = {
        **_event_context(access, event),
        "ticket_types": selectors.event_ticket_types(event),
        "audit": selectors.audit_entries(access, event=event),
    }
    return _page(request, "setup/event_settings.html", access, context, form)


@login_required
def ticket_type_new(request: AuthedRequest, org: str, event_id: str) -> HttpResponse:
    access = page_access(request, org)
    access.require(Perm.MANAGE_EVENTS)
    event = selectors.settings_event_get(access, event_id)
    form = TicketTypeForm(request.POST if request.method == "POST" else None, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_type = ticket_type_create(
                actor=request.user,
                organisation=access.organisation,
                public_id=event.public_id,
                settings=form.settings(),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except (SetupError, ValidationError) as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Added the ticket type {ticket_type.name}.")
            return redirect("event_settings", org=org, event_id=event.public_id)
    return _page(request, "setup/ticket_type_form.html", access, _event_context(access, event), form)


@login_required
def ticket_type_edit(request: AuthedRequest, org: str, event_id: str, ticket_type_id: int) -> HttpResponse:
    access = page_access(request, org)
    access.require(Perm.MANAGE_EVENTS)
    event = selectors.settings_event_get(access, event_id)
    ticket_type = selectors.ticket_type_get(event, ticket_type_id)
    form = TicketTypeForm(request.POST if request.method == "POST" else None, event=event, ticket_type=ticket_type)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_type_update(
                actor=request.user,
                organisation=access.organisation,
                public_id=event.public_id,
                ticket_type_id=ticket_type.pk,
                settings=form.settings(),
            )
        except (SetupError, ValidationError) as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Saved the ticket type {form.cleaned_data['name']}.")
            return redirect("event_settings", org=org, event_id=event.public_id)
    context = {**_event_context(access, event), "ticket_type": ticket_type}
    return _page(request, "setup/ticket_type_form.html", access, context, form)


@login_required
def ticket_type_remove(request: AuthedRequest, org: str, event_id: str, ticket_type_id: int) -> HttpResponse:
    """Confirm, then delete a ticket type nobody has ordered."""
    access = page_access(request, org)
    access.require(Perm.MANAGE_EVENTS)
    event = selectors.settings_event_get(access, event_id)
    ticket_type = selectors.ticket_type_get(event, ticket_type_id)
    form = Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_type_delete(
                actor=request.user,
                organisation=access.organisation,
                public_id=event.public_id,
                ticket_type_id=ticket_type.pk,
            )
        except SetupError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Deleted the ticket type {ticket_type.name}.")
            return redirect("event_settings", org=org, event_id=event.public_id)
    context = {**_event_context(access, event), "ticket_type": ticket_type}
    return _page(request, "setup/ticket_type_remove.html", access, context, form)


# --- The invitation link ------------------------------------------------------------------------------


class InvitationAcceptView(PasswordResetConfirmView):
    """The invitation email's link: choose a password, and be logged in. Django's password reset page with the
    invitation's tokens (organiser_portal.tokens: signed, expiring after INVITATION_TIMEOUT, used once). Like
    the reset, the token leaves the address bar (and the Referer) at once for the session."""

    token_generator = invitation_tokens
    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    # The backend that checked nothing (the link did): named, since axes adds a second one (settings).
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("dashboard")

    def get_user(self, uidb64):
        """The invited user, while they still belong to a team: removed before they came, the link is dead."""
        user = super().get_user(uidb64)
        return user if user is not None and user.memberships.exists() else None

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "valid_for": invitation_valid_for()}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Welcome to the team.")
        return response
