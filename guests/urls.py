from django.urls import path

from . import account_views, views

urlpatterns = [
    path("", views.my_events, name="my_events"),
    path("search/", views.search_page, name="search"),
    path("orders/", views.orders_page, name="orders"),
    path("customers/", views.customers_page, name="customers"),
    path("events/<str:event_id>/guests/", views.event_guests, name="event_guests"),
    path("customers/new/", account_views.customer_new, name="customer_new"),
    path("events/<str:event_id>/at-risk/", views.event_at_risk, name="event_at_risk"),
    path("customers/<int:customer_id>/", views.customer_page, name="customer_detail"),
    path("customers/<int:customer_id>/merge/", account_views.customer_merge, name="customer_merge"),
    path(
        "customers/<int:customer_id>/verification/",
        account_views.customer_send_verification,
        name="customer_send_verification",
    ),
]
