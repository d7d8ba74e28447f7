"""Who may do what: the role → permission table of DESIGN.md §3 and the one way to check it.

Services call `require_perm` before they change anything; views call `page_access` (or
`access_organisation`) to scope a page to the user's organisation (another organisation is a 404) and
use `Access.can` only to show or hide buttons.

A member may also choose one region for the rest of the session (header → Region): `page_access` narrows
the Access to it, so every list and the search (everything that goes through `Access.event_filter`,
`orders_visible`, `customers_visible`) shows that region alone. The choice only ever narrows: a region
outside the membership is ignored. Pages of one order, event or customer still open outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from .compiled_queries import CompiledQuery
from .models import Membership, Organisation, Region

Role = Membership.Role


class Perm(StrEnum):
    VIEW = "view"
    RESEND = "resend"
    SHARE_TICKETS_PAGE = "share_tickets_page"
    EDIT_CONTACT = "edit_contact"
    DOWNLOAD_PDF = "download_pdf"
    PERSONALISE = "personalise"
    PERSONALISE_FROZEN = "personalise_frozen"
    TRANSFER = "transfer"
    LINK_CUSTOMERS = "link_customers"
    MANAGE_CUSTOMERS = "manage_customers"
    SEND_HELD = "send_held"
    CREATE_ORDERS = "create_orders"
    COMPLIMENTARY = "complimentary"
    MANAGE_SUPPRESSIONS = "manage_suppressions"
    REFUND = "refund"
    CANCEL = "cancel"
    IMPORT = "import"
    MANAGE_EVENTS = "manage_events"
    MANAGE_DOOR = "manage_door"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_REGIONS = "manage_regions"
    MANAGE_ORGANISATION = "manage_organisation"


_VIEWER = frozenset({Perm.VIEW})
_SUPPORT = _VIEWER | {
    Perm.RESEND,
    # The customer's tickets page link opens every ticket of the order: whoever may resend them may pass it on.
    Perm.SHARE_TICKETS_PAGE,
    Perm.EDIT_CONTACT,
    Perm.DOWNLOAD_PDF,
    Perm.PERSONALISE,
    Perm.SEND_HELD,
    Perm.TRANSFER,
    # Create a customer account, link or unlink an order, send the verification email: support articles' tasks.
    Perm.LINK_CUSTOMERS,
    Perm.CREATE_ORDERS,  # the box office sells at the door: paid orders only
    # Taking an address off the suppression list: the agent who hears from the guest decides (with a reason, on
    # the timeline), as they decide a resend; a manager would only rubber-stamp it.
    Perm.MANAGE_SUPPRESSIONS,
}
_MANAGER = _SUPPORT | {
    Perm.PERSONALISE_FROZEN,
    Perm.COMPLIMENTARY,  # tickets given away are a manager's decision
    Perm.REFUND,
    Perm.CANCEL,
    Perm.IMPORT,
    Perm.MANAGE_EVENTS,
    Perm.MANAGE_DOOR,
    Perm.VIEW_MEMBERS,
    # Merging deletes an account and moves its orders: a manager's decision, not a support agent's.
    Perm.MANAGE_CUSTOMERS,
}
_OWNER = _MANAGER | {Perm.MANAGE_MEMBERS, Perm.MANAGE_REGIONS, Perm.MANAGE_ORGANISATION}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.VIEWER: _VIEWER,
    Role.SUPPORT: _SUPPORT,
    Role.MANAGER: _MANAGER,
    Role.OWNER: _OWNER,
}

# What each permission lets a person do, in the words of a refusal: "Your role (Viewer) can't resend tickets".
# The ⋯ menu shows it beside a disabled action; the refusal page (403.html) shows it when the action is opened.
PERM_ACTIONS: dict[Perm, str] = {
    Perm.VIEW: "see this organisation's orders",
    Perm.RESEND: "resend tickets",
    Perm.SHARE_TICKETS_PAGE: "see or share the customer's tickets page link",
    Perm.EDIT_CONTACT: "edit the contact",
    Perm.DOWNLOAD_PDF: "download tickets",
    Perm.PERSONALISE: "change attendee details",
    Perm.PERSONALISE_FROZEN: "change attendee details once they are frozen",
    Perm.TRANSFER: "transfer or reissue tickets",
    Perm.LINK_CUSTOMERS: "create customer accounts or link orders to them",
    Perm.MANAGE_CUSTOMERS: "merge customer accounts",
    Perm.SEND_HELD: "send held tickets",
    Perm.CREATE_ORDERS: "create box-office orders",
    Perm.COMPLIMENTARY: "give complimentary tickets",
    Perm.MANAGE_SUPPRESSIONS: "take addresses off the suppression list",
    Perm.REFUND: "refund orders",
    Perm.CANCEL: "cancel orders",
    Perm.IMPORT: "import orders",
    Perm.MANAGE_EVENTS: "change event settings",
    Perm.MANAGE_DOOR: "set up the door (access areas and scanner devices)",
    Perm.VIEW_MEMBERS: "see the team",
    Perm.MANAGE_MEMBERS: "manage team members",
    Perm.MANAGE_REGIONS: "manage regions",
    Perm.MANAGE_ORGANISATION: "change organisation settings",
}


@dataclass(frozen=True)
class Access:
    """What one user may see and do in one organisation."""

    user_id: int
    organisation: Organisation
    role: str
    region_ids: frozenset[int] | None  # None: every region; empty: none (a limited member without regions)
    # The user is a member of this organisation alone: the header needs no organisation switcher (nor its query).
    sole_organisation: bool = False
    # The region chosen for this session (see the module docstring); None: every region the membership allows.
    chosen_region_id: int | None = None
    chosen_region_name: str = ""
    organisation_has_regions: bool = False  # whether there is a region to choose (header → Region)

    @property
    def perms(self) -> frozenset[Perm]:
        return ROLE_PERMS[self.role]

    def can(self, perm: Perm) -> bool:
        return perm in self.perms

    def refusal(self, perm: Perm) -> str | None:
        """None when the role may; else why not, as a person reads it: "Your role (Viewer) can't resend tickets"."""
        if self.can(perm):
            return None
        return f"Your role ({Role(self.role).label}) can't {PERM_ACTIONS[perm]}"

    def require(self, perm: Perm) -> None:
        """PermissionDenied with `refusal`'s reason, which the refusal page (templates/403.html) shows."""
        if reason := self.refusal(perm):
            raise PermissionDenied(reason)

    @property
    def opens_settings(self) -> bool:
        """Whether the header links to the organisation's Settings (events, team, regions): managers and owners."""
        return self.can(Perm.MANAGE_EVENTS) or self.can(Perm.VIEW_MEMBERS)

    def allows_region(self, region_id: int | None) -> bool:
        """Whether the membership allows the region (whatever region is chosen): pages of one object."""
        return self.region_ids is None or region_id in self.region_ids

    @property
    def listed_region_ids(self) -> frozenset[int] | None:
        """The regions lists show: the chosen one, else the membership's (None: every region, and events without one)."""
        return self.region_ids if self.chosen_region_id is None else frozenset({self.chosen_region_id})

    def lists_region(self, region_id: int | None) -> bool:
        """Whether lists show an event of this region: allowed by the membership and by the region chosen."""
        return self.allows_region(region_id) and (self.chosen_region_id is None or region_id == self.chosen_region_id)

    @property
    def region_choice_offered(self) -> bool:
        """Whether the header offers a region choice: a region is chosen, or there is more than one view to choose."""
        if self.chosen_region_id is not None:
            return True
        return len(self.region_ids) > 1 if self.region_ids is not None else self.organisation_has_regions

    def choose_region(self, region_id: int | None, name: str = "") -> Access:
        """This access narrowed to `region_id` (None: no choice). A region the membership doesn't allow is
        ignored: the choice never widens what a region-limited member sees."""
        if region_id is None or not self.allows_region(region_id):
            return replace(self, chosen_region_id=None, chosen_region_name="")
        return replace(self, chosen_region_id=region_id, chosen_region_name=name)

    def without_region_choice(self) -> Access:
        """The membership's whole view, for looking up one order, event or customer by its identifier."""
        return self.choose_region(None)

    def event_filter(self, prefix: str = "") -> Q:
        """A filter that keeps only events (or rows of events, via `prefix`) this access lists: its organisation,
        its regions, and the region chosen."""
        q = Q(**{f"{prefix}organisation": self.organisation})
        if (region_ids := self.listed_region_ids) is not None:
            q &= Q(**{f"{prefix}region_id__in": region_ids})
        return q


def _with_region_flag(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    # `limited` (the stored flag, not whether regions are ticked) spares every member who isn't region-limited
    # the regions query; a limited member with no region left is limited to nothing.
    return memberships.annotate(limited=F("region_limited"))


def _has_regions(organisation_ref: str) -> Exists:
    return Exists(Region.objects.filter(organisation_id=OuterRef(organisation_ref)))


# A page's access, run on every page: compiled to SQL once per process (compiled_queries.py). Whether the
# user belongs elsewhere too comes along, for the header's organisation switcher.
_PAGE_MEMBERSHIP = CompiledQuery(
    lambda user_id, slug: _with_region_flag(
        Membership.objects.filter(user_id=user_id, organisation__slug=slug)
        .select_related("organisation")
        .annotate(elsewhere=Exists(Membership.objects.filter(user_id=OuterRef("user_id")).exclude(pk=OuterRef("pk"))))
        .annotate(has_regions=_has_regions("organisation_id"))
    )[:1]
)


def _membership_access(user, membership: Membership | None, organisation: Organisation | None) -> Access | None:
    """The Access of `membership` (one query, or two for a region-limited member). Without `organisation`
    it is the membership's own."""
    if membership is None:
        return None
    limited = getattr(membership, "limited", membership.region_limited)
    region_ids = frozenset(membership.regions.values_list("pk", flat=True)) if limited else None
    sole = organisation is None and not getattr(membership, "elsewhere", True)
    organisation = organisation or membership.organisation
    has_regions = getattr(membership, "has_regions", limited)
    # An empty set is no region at all (the member's last region was deleted or unticked), never every region.
    return Access(user.pk, organisation, membership.role, region_ids, sole, organisation_has_regions=has_regions)


def access_for(user, organisation: Organisation) -> Access | None:
    """The user's access to `organisation`, or None when they have none. Superusers may do everything."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Access(user.pk, organisation, Role.OWNER, None)
    membership = _with_region_flag(Membership.objects.filter(user=user, organisation=organisation)).first()
    return _membership_access(user, membership, organisation)


def access_organisation(user, slug: str) -> Access:
    """Scope a page to the organisation in its URL: no membership answers 404, never 403.

    Every page calls this, so a member's access (organisation, membership and whether it is
    region-limited) comes from one query.
    """
    if not user.is_authenticated or not user.is_active:
        access = None
    elif user.is_superuser:
        organisation = Organisation.objects.filter(slug=slug).annotate(has_regions=_has_regions("pk")).first()
        if organisation is not None:
            access = Access(user.pk, organisation, Role.OWNER, None, organisation_has_regions=organisation.has_regions)
        else:
            access = None
    else:
        access = _membership_access(user, next(iter(_PAGE_MEMBERSHIP.fetch(user.pk, slug)), None), None)
    if access is None:
        raise Http404("No such organisation.")
    return access


# The session's region choices: organisation slug → [region id, region name] (set by the Region page).
REGION_SESSION_KEY = "regions"


def page_access(request: HttpRequest, slug: str) -> Access:
    """`access_organisation` for a page: narrowed to the region chosen in this session for that organisation,
    which also becomes the one the user returns to (the dashboard reads `session["organisation"]`)."""
    access = access_organisation(request.user, slug)
    session = request.session
    if session.get("organisation") != slug:  # a session write only when it changes
        session["organisation"] = slug
    chosen = session.get(REGION_SESSION_KEY, {}).get(slug)
    if chosen:
        access = access.choose_region(int(chosen[0]), str(chosen[1]))
    return access


def region_remember(request: HttpRequest, access: Access, region: Region | None) -> None:
    """Keep `region` (None: every region) as this session's choice for the access's organisation."""
    choices = dict(request.session.get(REGION_SESSION_KEY, {}))
    if region is None:
        choices.pop(access.organisation.slug, None)
    else:
        choices[access.organisation.slug] = [region.pk, region.name]
    request.session[REGION_SESSION_KEY] = choices


def require_perm(user, organisation: Organisation, perm: Perm, *, region_id: int | None = None) -> Access:
    """The check every service makes first. No access at all, or no access to the region, is a 404."""
    access = access_for(user, organisation)
    if access is None or not access.allows_region(region_id):
        raise Http404("Not found.")
    access.require(perm)
    return access


def organisations_for(user) -> QuerySet[Organisation]:
    if user.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(memberships__user=user)
