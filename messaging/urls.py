"""Routes of this app under /api/v1/ (included by shokti.urls)."""

from django.urls import re_path

from messaging.api_delivery import DeliveryEventsView

urlpatterns = [
    re_path(r"^delivery-events/?$", DeliveryEventsView.as_view(), name="delivery-events"),
]
