"""The error a customer account action raises when it can't run; its text is shown on the page."""

from __future__ import annotations

from .models import Customer


class CustomerAccountError(Exception):
    """Refused, with the reason a person reads. `existing`: the account that already has the email address, when
    that is the reason (the page then offers to link to it instead of creating another)."""

    def __init__(self, message: str, *, existing: Customer | None = None):
        super().__init__(message)
        self.existing = existing
