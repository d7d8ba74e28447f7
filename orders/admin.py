"""Admin for orders. What the services own is read-only here, so that admin can't bypass them and the timeline
stays true: the status and the sums they keep (total, refunded total, email status), an order's contact and
customer account (order_change_contact writes "contact changed"), and refunds (order_refund and the payment
provider move them). Superusers still read all of it."""

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import OutgoingMessage
from organiser_portal.admin import FoldedNameSearch, LargeTableAdmin, ReadOnlyAdmin, ReadOnlyInline
from tickets.models import Ticket

from .models import Order, OrderLine, Payment, Refund, TimelineEntry
from .timeline import describe


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ("ticket_type", "quantity", "unit_price", "discount", "booking_fee", "tax", "organisation")
    autocomplete_fields = ("ticket_type", "organisation")

    # A new order takes its lines here; an existing order's lines are what it was paid for.
    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return obj is None and super().has_delete_permission(request, obj)


class TicketInline(ReadOnlyInline):
    model = Ticket
    fields = ("public_id", "ticket_type", "status", "invalid_reason", "used_at", "attendee_name", "attendee_email")
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("provider", "reference", "amount", "processing_fee", "status", "created_at", "confirmed_at")
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("amount", "booking_fee_kept", "status", "reason", "error", "created_at", "completed_at")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = OutgoingMessage
    fields = ("created_at", "kind", "recipient", "status", "status_reason")
    readonly_fields = fields


class TimelineInline(ReadOnlyInline):
    model = TimelineEntry
    fields = ("created_at", "actor_kind", "actor", "action", "sentence")
    readonly_fields = fields
    show_change_link = False

    @admin.display(description="What happened")
    def sentence(self, entry: TimelineEntry) -> str:
        return describe(entry.action, entry.data)


@admin.register(Order)
class OrderAdmin(FoldedNameSearch, LargeTableAdmin):
    list_display = (
        "code",
        "event",
        "contact_name",
        "contact_email",
        "status",
        "email_status",
        "total",
        "refunded_total",
        "tickets_held",
        "created_at",
    )
    list_filter = ("status", "email_status", "tickets_held", "organisation", "event")
    list_select_related = ("event",)
    # Code: UPPER(code) index; email: trigram index on UPPER(col); phone: exact, btree index; the name:
    # folded, in name_key (FoldedNameSearch).
    search_fields = ("=code", "contact_email", "contact_phone__exact")
    autocomplete_fields = ("organisation", "event", "customer")
    readonly_fields = ("status", "total", "refunded_total", "email_status", "paid_at", "cancelled_at")
    # Read-only once the order exists (a new order needs them): whose order it is, what it is for and
    # what it cost, and its contact (moving an order to another organisation would hand it to that
    # organisation's members).
    fixed_once_created = (
        "organisation",
        "event",
        "code",
        "currency",
        "discount_total",
        "created_at",
        "customer",
        "contact_name",
        "contact_email",
        "contact_phone",
        "address",
    )
    inlines = [OrderLineInline, TicketInline, PaymentInline, RefundInline, MessageInline, TimelineInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if obj is None else (*self.fixed_once_created, *readonly)


@admin.register(OrderLine)
class OrderLineAdmin(LargeTableAdmin):
    list_display = ("order", "ticket_type", "quantity", "unit_price", "discount", "booking_fee", "tax")
    list_select_related = ("order", "ticket_type")
    search_fields = ("=order__code",)
    autocomplete_fields = ("organisation", "order", "ticket_type")


@admin.register(Payment)
class PaymentAdmin(LargeTableAdmin):
    list_display = ("order", "provider", "reference", "amount", "processing_fee", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("order",)
    search_fields = ("=order__code",)
    autocomplete_fields = ("organisation", "order")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("order", "amount", "booking_fee_kept", "status", "reason", "error", "requested_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("order", "requested_by")
    search_fields = ("=order__code", "idempotency_key__exact")


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order", "actor_kind", "actor", "action", "sentence")
    list_filter = ("actor_kind",)
    list_select_related = ("order", "actor")
    search_fields = ("=order__code",)

    @admin.display(description="What happened")
    def sentence(self, entry: TimelineEntry) -> str:
        return describe(entry.action, entry.data)
