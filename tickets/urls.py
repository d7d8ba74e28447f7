from django.urls import path

from . import api

urlpatterns = [
    # Door scanners report check-ins here with their device token.
    path("api/v1/check-ins/", api.check_in, name="checkin_api"),
]
