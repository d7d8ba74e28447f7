"""Template helpers for the order page's ticket-delivery parts (bounce banner, fix and resend)."""

from django import template

from orders.email_typos import suggest_email
from orders.forms import new_idempotency_key

register = template.Library()


@register.filter
def email_suggestion(address: str) -> str | None:
    """`order.contact_email|email_suggestion`: the address the guest probably meant, or None."""
    return suggest_email(address or "")


@register.simple_tag
def idempotency_key() -> str:
    """A fresh token for a one-click form on the page: submitting it twice does the action once."""
    return new_idempotency_key()
