from django.http import HttpRequest

from .permissions import organisations_for


def portal(request: HttpRequest) -> dict:
    """The organisation switcher in the header: every organisation the user belongs to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"switchable_organisations": organisations_for(user)}
