from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from . import views

org_patterns: list[URLPattern | URLResolver] = [
    path("region/", views.region_choose, name="region_choose"),
    path("", include("setup.urls")),
    path("", include("guests.urls")),
    path("", include("orders.urls")),
    path("", include("notifications.org_urls")),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # A member's password (reset, change) and the team invitation's link (setup.account_urls).
    path("accounts/", include("setup.account_urls")),
    path("o/<slug:org>/", include(org_patterns)),
    # The chosen email service's delivery webhook, /anymail/<service>/tracking/ (notifications.urls, .webhooks).
    path("anymail/", include("notifications.urls")),
    # The SMS provider's status callbacks, /webhooks/sms/status/ (notifications.webhook_urls, .sms_webhooks).
    path("webhooks/sms/", include("notifications.webhook_urls")),
    # Stripe's refund webhook, /webhooks/stripe/ (orders.webhook_urls, orders.webhooks).
    path("webhooks/", include("orders.webhook_urls")),
    # Door scanners report check-ins at /api/v1/check-ins/ with their device token (tickets.api).
    path("", include("tickets.urls")),
    # A customer confirms their email address at /verify-email/<token>/ (guests.public_urls).
    path("", include("guests.public_urls")),
    path("admin/", admin.site.urls),
    # For monitoring: JSON, 200 when the database, Redis and the worker are well, else 503 (organiser_portal.health).
    path("health/", views.health, name="health"),
]

# Refusals and not-found answers are pages of the portal (its layout, the reason, a way back); 500.html is static.
handler403 = views.permission_denied
handler404 = views.page_not_found
