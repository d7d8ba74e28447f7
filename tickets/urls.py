from django.urls import path

from . import views

urlpatterns = [
    path("orders/<str:code>/tickets/<str:ticket_id>/ticket.pdf", views.ticket_pdf, name="ticket_pdf"),
]
