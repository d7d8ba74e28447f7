from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from organiser_portal.admin import LargeTableAdmin

from .models import (
    AccessArea,
    AccessPoint,
    PersonalDataField,
    PersonalisationLink,
    Scan,
    ScannerDevice,
    Ticket,
    TicketReplacement,
)
from .selectors import door_plan_forget, scanner_device_forget
from .services import scanner_device_revoke, scanner_token_generate


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


@admin.register(ScannerDevice)
class ScannerDeviceAdmin(admin.ModelAdmin):
    """Door scanners. The token is shown once, when the device is added; afterwards only its last characters."""

    list_display = (
        *("name", "organisation", "event", "access_point", "token_hint", "created_at", "last_seen_at", "revoked_at"),
    )
    list_filter = ("organisation",)
    list_select_related = ("organisation", "event", "access_point")
    search_fields = ("name",)
    autocomplete_fields = ("organisation", "event", "access_point")
    readonly_fields = ("token_hint", "created_at", "last_seen_at", "revoked_at")
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ScannerDevice, form, change: bool) -> None:
        if not change:
            token = scanner_token_generate()
            obj.set_token(token)
            self.message_user(
                request,
                f"The token of {obj.name}, shown this once only (Authorization: Bearer …): {token}",
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)
        scanner_device_forget(obj)  # a changed name or event applies to this process's next scan

    @admin.action(description="Revoke the selected devices' tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ScannerDevice]) -> None:
        for device in queryset.filter(revoked_at__isnull=True):
            scanner_device_revoke(device=device)
        self.message_user(request, "Revoked: their scans are refused from now on.", messages.SUCCESS)


class AccessPointInline(admin.TabularInline):
    model = AccessPoint
    extra = 0
    fields = ("name", "organisation")


@admin.register(AccessArea)
class AccessAreaAdmin(admin.ModelAdmin):
    """An event's access areas and their points; managers edit them in the portal (event → Door)."""

    list_display = ("name", "event", "all_ticket_types")
    list_select_related = ("event",)
    search_fields = ("name", "event__name")
    autocomplete_fields = ("organisation", "event")
    filter_horizontal = ("ticket_types",)
    inlines = [AccessPointInline]

    def save_model(self, request: HttpRequest, obj: AccessArea, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        door_plan_forget(obj.event_id)


@admin.register(AccessPoint)
class AccessPointAdmin(admin.ModelAdmin):
    list_display = ("name", "area")
    list_select_related = ("area",)
    search_fields = ("name", "area__name")
    autocomplete_fields = ("organisation", "area")


@admin.register(PersonalDataField)
class PersonalDataFieldAdmin(admin.ModelAdmin):
    list_display = ("label", "ticket_type", "kind", "required", "position")
    list_select_related = ("ticket_type",)
    raw_id_fields = ("organisation", "ticket_type")


@admin.register(PersonalisationLink)
class PersonalisationLinkAdmin(admin.ModelAdmin):
    """Links are made by ⋯ Open personalisation (which emails them); here they can be read and revoked."""

    list_display = ("order", "recipient", "language", "created_at", "expires_at", "revoked_at")
    list_select_related = ("order",)
    raw_id_fields = ("organisation", "order")
    readonly_fields = ("organisation", "order", "language", "recipient", "idempotency_key", "created_by", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TicketReplacement)
class TicketReplacementAdmin(admin.ModelAdmin):
    """Transfers and reissues, read only: they are made on the order page (tickets.transfers), which also
    changes the tickets, writes the timeline and emails the holder."""

    list_display = ("kind", "status", "order", "old_ticket", "new_ticket", "holder_name", "created_by", "created_at")
    list_filter = ("kind", "status")
    list_select_related = ("order", "old_ticket", "new_ticket", "created_by")
    search_fields = ("=order__code", "old_ticket__public_id__exact", "new_ticket__public_id__exact")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TicketReplacement | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TicketReplacement | None = None) -> bool:
        return False
