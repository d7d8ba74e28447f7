from django.contrib import admin

from organiser_portal.admin import LargeTableAdmin

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(LargeTableAdmin):
    list_display = ("name", "email", "phone", "organisation", "verified", "created_at")
    list_filter = ("verified", "organisation")
    list_select_related = ("organisation",)
    # name and email: trigram indexes on UPPER(col) serve icontains; phone: exact, through its btree index.
    search_fields = ("name", "email", "phone__exact")
    autocomplete_fields = ("organisation",)
    readonly_fields = ("created_at",)
