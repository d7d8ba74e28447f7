class SetupError(Exception):
    """A setup change refused, with the reason the page shows ("Anna is the only owner: …"). Nothing changed."""
