from django.contrib import admin

from organiser_portal.admin import LargeTableAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import DeliveryEvent, OutgoingMessage


class DeliveryEventInline(ReadOnlyInline):
    model = DeliveryEvent
    fields = ("occurred_at", "event_type", "reason", "provider", "received_at")
    readonly_fields = fields
    ordering = ("occurred_at", "id")


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(LargeTableAdmin):
    list_display = ("created_at", "order", "kind", "channel", "recipient", "status", "status_reason", "sent_at")
    list_filter = ("status", "kind", "channel")
    list_select_related = ("order",)
    # The recipient has no index of its own: find messages through the order (code, contact email) or the provider's ID.
    search_fields = ("=order__code", "order__contact_email", "provider_message_id__exact")
    autocomplete_fields = ("organisation", "order", "created_by")
    readonly_fields = (
        "created_at",
        "sent_at",
        "status_at",
        "opened_at",
        "clicked_at",
        "attempts",
        "next_attempt_at",
        "handed_over_at",
        "unconfirmed_resends",
    )
    inlines = [DeliveryEventInline]


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "event_type", "message", "reason", "provider", "received_at")
    list_filter = ("event_type",)
    list_select_related = ("message",)
    search_fields = ("dedup_key__exact", "message__provider_message_id__exact")
