"""Django admin for superusers: the tenancy core, plus the base classes the other apps' admins share.

Large tables (orders, tickets, scans, messages, timeline) must stay fast at millions of rows:
no full COUNT on every page, sort only by indexed columns, search only where an index helps.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property

from .db import row_estimate
from .matching import fold
from .models import Event, Membership, Organisation, Region, TicketType

admin.site.site_header = "Organiser Portal administration"
admin.site.site_title = "Organiser Portal admin"
admin.site.index_title = "Everything, for superusers"
admin.site.site_url = "/"


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered list of a big table takes the planner's row estimate instead of COUNT(*)."""

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where:
            estimate = row_estimate(query.model, using=getattr(queryset, "db", "default"))
            if estimate is not None and estimate >= self.EXACT_BELOW:
                return estimate
        return super().count


class LargeTableAdmin(admin.ModelAdmin):
    """For tables that grow with sales: newest first by primary key, estimated totals, indexed sorts only."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-pk",)
    sortable_by = ()
    list_per_page = 50


class FoldedNameSearch(admin.ModelAdmin):
    """The admin's search also finds a name as people type it: the search term folded, inside the row's
    name_key (organiser_portal.matching; its trigram index), besides the model's `search_fields`."""

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if folded := fold(search_term):
            found = found | queryset.filter(name_key__contains=folded)
        return found, may_have_duplicates


class ReadOnlyAdmin(LargeTableAdmin):
    """Rows only services write (timeline, delivery events, refunds): superusers may look, nobody edits here."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class RegionInline(admin.TabularInline):
    model = Region
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [RegionInline]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation")
    list_filter = ("organisation",)
    list_select_related = ("organisation",)
    search_fields = ("name", "organisation__name")
    autocomplete_fields = ("organisation",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "region_limit", "created_at")
    list_filter = ("role", "organisation")
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation", "regions")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("regions")

    @admin.display(description="Regions")
    def region_limit(self, membership: Membership) -> str:
        if not membership.region_limited:
            return "All regions"
        return ", ".join(r.name for r in membership.regions.all()) or "No region"


class TicketTypeInline(admin.TabularInline):
    model = TicketType
    extra = 0
    fields = ("name", "price", "booking_fee", "tax_rate", "requires_personal_data", "capacity", "organisation")
    autocomplete_fields = ("organisation",)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "organisation", "region", "starts_at", "venue", "send_tickets_automatically")
    list_filter = ("organisation", "send_tickets_automatically", "region")
    list_select_related = ("organisation", "region")
    search_fields = ("name", "=public_id", "venue")
    autocomplete_fields = ("organisation", "region")
    readonly_fields = ("public_id", "created_at")
    date_hierarchy = "starts_at"
    inlines = [TicketTypeInline]


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "event", "price", "booking_fee", "tax_rate", "requires_personal_data", "capacity")
    list_filter = ("requires_personal_data", "event__organisation")
    list_select_related = ("event",)
    search_fields = ("name", "event__name")
    autocomplete_fields = ("organisation", "event")
