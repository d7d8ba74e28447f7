from django.urls import path

from . import (
    account_views,
    box_office_views,
    bulk_views,
    import_views,
    pdf_views,
    personalise_views,
    refund_views,
    sms_views,
    tickets_page_views,
    transfer_views,
    views,
)

urlpatterns = [
    path("events/<str:event_id>/orders/new/", box_office_views.order_new, name="order_new"),
    path("events/<str:event_id>/import/", import_views.import_upload, name="event_import"),
    path("events/<str:event_id>/import/template.csv", import_views.import_template, name="event_import_template"),
    path("events/<str:event_id>/import/<int:run_id>/", import_views.import_run, name="event_import_run"),
    path(
        "events/<str:event_id>/import/<int:run_id>/confirm/",
        import_views.import_run_confirm,
        name="event_import_confirm",
    ),
    path(
        "events/<str:event_id>/import/<int:run_id>/problems.csv",
        import_views.import_run_errors,
        name="event_import_errors",
    ),
    path("orders/email-status/", views.orders_email_status, name="orders_email_status"),
    path("events/<str:event_id>/bulk/", bulk_views.event_bulk_confirm, name="event_bulk_confirm"),
    path("events/<str:event_id>/bulk/start/", bulk_views.event_bulk_start, name="event_bulk_start"),
    path("events/<str:event_id>/bulk/<int:bulk_id>/", bulk_views.event_bulk_detail, name="event_bulk_detail"),
    path("orders/<str:code>/", views.order_detail, name="order_detail"),
    path("orders/<str:code>/refresh/", views.order_refresh, name="order_refresh"),
    path("orders/<str:code>/tickets/<str:ticket_id>/scans/", views.ticket_scans, name="ticket_scans"),
    path("orders/<str:code>/resend/", views.order_resend, name="order_resend"),
    path("orders/<str:code>/resend-sms/", sms_views.order_resend_sms, name="order_resend_sms"),
    path("orders/<str:code>/contact/", views.order_edit_contact, name="order_edit_contact"),
    path("orders/<str:code>/fix-and-resend/", views.order_fix_and_resend, name="order_fix_and_resend"),
    path("orders/<str:code>/send-held/", views.order_send_held, name="order_send_held"),
    path("orders/<str:code>/refund/", refund_views.refund_order, name="order_refund"),
    path("orders/<str:code>/refunds/<int:refund_id>/retry/", refund_views.retry_refund, name="order_refund_retry"),
    path("orders/<str:code>/cancel/", refund_views.cancel_order, name="order_cancel"),
    path("orders/<str:code>/personalise/", personalise_views.order_personalise, name="order_personalise"),
    path(
        "orders/<str:code>/personalise/link/", personalise_views.order_personalise_link, name="order_personalise_link"
    ),
    path(
        "orders/<str:code>/personalise/links/<int:link_id>/revoke/",
        personalise_views.order_personalise_link_revoke,
        name="order_personalise_link_revoke",
    ),
    path("orders/<str:code>/account/new/", account_views.create_customer, name="order_customer_create"),
    path("orders/<str:code>/account/link/", account_views.link_customer, name="order_customer_link"),
    path("orders/<str:code>/account/unlink/", account_views.unlink_customer, name="order_customer_unlink"),
    path("orders/<str:code>/tickets.pdf", pdf_views.order_download, name="order_download"),
    path("orders/<str:code>/tickets-page/", tickets_page_views.order_tickets_page, name="order_tickets_page"),
    path("orders/<str:code>/tickets/<str:ticket_id>/ticket.pdf", pdf_views.ticket_pdf, name="ticket_pdf"),
    path("orders/<str:code>/tickets/<str:ticket_id>/transfer/", transfer_views.transfer_ticket, name="ticket_transfer"),
    path(
        "orders/<str:code>/tickets/<str:ticket_id>/transfer/cancel/",
        transfer_views.cancel_ticket_transfer,
        name="ticket_transfer_cancel",
    ),
    path("orders/<str:code>/tickets/<str:ticket_id>/reissue/", transfer_views.reissue_ticket, name="ticket_reissue"),
]
