"""The customer's public page (no login): the verification email's signed link (guests.verification)."""

from django.urls import path

from . import account_views

urlpatterns = [
    path("verify-email/<str:token>/", account_views.customer_verify_public, name="customer_verify"),
]
