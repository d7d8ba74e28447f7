"""`{% email_status_poll orders poll_id %}`: the guest tables' poller for in-flight "Order email status" badges."""

from collections.abc import Iterable

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from orders.models import EMAIL_IN_FLIGHT

register = template.Library()


def poll_url(org_slug: str, poll_id: str, shown: Iterable[tuple[str, str]]) -> str:
    """The poll's URL naming each in-flight order and the status the table shows for it; "" when none is in flight."""
    pairs = [f"{code}.{status}" for code, status in shown if status in EMAIL_IN_FLIGHT]
    if not pairs:
        return ""
    query = urlencode([("poll", poll_id), *(("o", pair) for pair in pairs)])
    return f"{reverse('orders_email_status', kwargs={'org': org_slug})}?{query}"


@register.inclusion_tag("orders/email_status_poll.html", takes_context=True)
def email_status_poll(context, orders, poll_id: str) -> dict:
    org_slug = context["access"].organisation.slug
    return {"poll_id": poll_id, "url": poll_url(org_slug, poll_id, ((o.code, o.email_status) for o in orders))}
