"""Routes of the event stream under /api/v1/ (included by shokti.urls)."""

from shokti.routers import OptionalSlashRouter
from streams.api import WebhookSubscriptionViewSet

router = OptionalSlashRouter()
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")

urlpatterns = [*router.urls]
