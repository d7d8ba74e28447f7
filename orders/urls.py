from django.urls import path

from . import views

urlpatterns = [
    path("orders/<str:code>/", views.order_detail, name="order_detail"),
    path("orders/<str:code>/tickets/<str:ticket_id>/scans/", views.ticket_scans, name="ticket_scans"),
]
