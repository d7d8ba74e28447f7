from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_events, name="my_events"),
    path("search/", views.search_page, name="search"),
    path("events/<str:event_id>/guests/", views.event_guests, name="event_guests"),
    path("customers/<int:customer_id>/", views.customer_page, name="customer_detail"),
]
