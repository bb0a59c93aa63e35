"""Routes of this app under /api/v1/ (included by shokti.urls)."""

from shokti.routers import OptionalSlashRouter

router = OptionalSlashRouter()

urlpatterns = [*router.urls]
