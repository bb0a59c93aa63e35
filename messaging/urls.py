"""Routes of this app under /api/v1/ (included by shokti.urls)."""

from django.urls import re_path

from messaging.api import InboxViewSet
from messaging.api_delivery import DeliveryEventsView
from shokti.routers import OptionalSlashRouter

router = OptionalSlashRouter()
# External ids are the organization's own (emails, dotted ids): anything but a slash.
router.register(r"contacts/(?P<external_id>[^/]+)/inbox", InboxViewSet, basename="contact-inbox")

urlpatterns = [
    re_path(r"^delivery-events/?$", DeliveryEventsView.as_view(), name="delivery-events"),
    *router.urls,
]
