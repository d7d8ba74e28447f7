"""The header's flag for refunds stuck in "Confirming refund" (settings.REFUND_STUCK_AFTER_HOURS)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from orders.selectors import refunds_stuck_count
from organiser_portal.permissions import Access, Perm

register = template.Library()


@register.simple_tag
def refunds_stuck_link(access: Access | None) -> SafeString | str:
    """`{% refunds_stuck_link access %}`: for a member who may refund, a link to the Orders list's "Refund stuck"
    filter with how many orders it holds; nothing (and no query for anyone else) when there are none."""
    if access is None or not access.can(Perm.REFUND):
        return ""
    count = refunds_stuck_count(access)
    if not count:
        return ""
    url = reverse("orders", kwargs={"org": access.organisation.slug}) + "?refund_stuck=on"
    label = f"{count} refund{'s' if count != 1 else ''} stuck"
    return format_html(
        '<a class="btn btn-sm btn-warning refunds-stuck" href="{}" title="Confirming refund for too long: '
        'check with the payment provider">{}</a>',
        url,
        label,
    )
