from django.contrib import admin

from organiser_portal.admin import FoldedNameSearch, LargeTableAdmin

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(FoldedNameSearch, LargeTableAdmin):
    list_display = ("name", "email", "phone", "organisation", "verified", "created_at")
    list_filter = ("verified", "organisation")
    list_select_related = ("organisation",)
    # email: the trigram index on UPPER(email) serves icontains; phone: exact, through its btree index; the
    # name: folded, in name_key (FoldedNameSearch).
    search_fields = ("email", "phone__exact")
    autocomplete_fields = ("organisation",)
    readonly_fields = ("created_at",)
