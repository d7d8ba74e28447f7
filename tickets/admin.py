from django.contrib import admin

from organiser_portal.admin import LargeTableAdmin

from .models import Scan, Ticket


class ScanInline(admin.TabularInline):
    model = Scan
    extra = 0
    fields = ("scanned_at", "access_area", "access_point", "result", "reason", "device")
    readonly_fields = fields
    can_delete = False
    ordering = ("-scanned_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(LargeTableAdmin):
    list_display = ("public_id", "order", "event", "ticket_type", "display_status", "attendee_name", "created_at")
    list_filter = ("status", "invalid_reason", "event")
    list_select_related = ("order", "event", "ticket_type")
    # Ticket IDs and order codes are typed exactly; both lookups use an index.
    search_fields = ("public_id__exact", "=order__code")
    autocomplete_fields = ("organisation", "event", "order", "line", "ticket_type")
    readonly_fields = ("secret", "created_at", "updated_at")
    inlines = [ScanInline]

    @admin.display(description="Status")
    def display_status(self, ticket: Ticket) -> str:
        return ticket.display_status


@admin.register(Scan)
class ScanAdmin(LargeTableAdmin):
    list_display = (
        "scanned_at",
        "ticket",
        "raw_code",
        "event",
        "access_area",
        "access_point",
        "result",
        "reason",
        "device",
    )
    list_filter = ("result", "reason", "event")
    list_select_related = ("ticket", "event")
    search_fields = ("ticket__public_id__exact",)
    autocomplete_fields = ("organisation", "event", "ticket")
