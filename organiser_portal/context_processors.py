from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .permissions import organisations_for


def portal(request: HttpRequest) -> dict:
    """The organisation switcher in the header: every organisation the user belongs to.

    Lazy: the query is built and run only where the header shows the switcher, never for a member of one
    organisation (`access.sole_organisation`, most pages).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"switchable_organisations": SimpleLazyObject(lambda: list(organisations_for(user)))}
