class OrderActionError(Exception):
    """An action that is not allowed in the order's current state. Its text is shown on the page."""
