"""Routes of this app under /api/v1/ (included by shokti.urls)."""

from messaging.api import InboxViewSet
from shokti.routers import OptionalSlashRouter

router = OptionalSlashRouter()
# External ids are the organization's own (emails, dotted ids): anything but a slash.
router.register(r"contacts/(?P<external_id>[^/]+)/inbox", InboxViewSet, basename="contact-inbox")

urlpatterns = [*router.urls]
