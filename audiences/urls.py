"""Routes of this app under /api/v1/ (included by shokti.urls)."""

from audiences.api import ContactViewSet, SegmentViewSet
from shokti.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("segments", SegmentViewSet, basename="segment")

urlpatterns = [*router.urls]
