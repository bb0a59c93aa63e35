"""Seed 004's campaign routes under /api/v1/ (included by shokti.urls)."""

from django.urls import path, re_path

from campaigns.api import notify
from campaigns.api.events import EventIngestView
from campaigns.api.triggers import TriggerHistoryView
from campaigns.api.views import (
    AudienceViewSet,
    CampaignViewSet,
    ChannelViewSet,
    ExecutionViewSet,
    TriggerViewSet,
    VariantViewSet,
)
from shokti.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register(r"campaigns/(?P<campaign_id>[^/.]+)/executions", ExecutionViewSet, basename="campaign-execution")

COLLECTION = {"get": "list", "post": "create"}
ITEM = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}


def part_routes(name: str, viewset) -> list:
    prefix = rf"^campaigns/(?P<campaign_id>[^/.]+)/{name}"
    return [
        re_path(rf"{prefix}/?$", viewset.as_view(COLLECTION), name=f"campaign-{name}"),
        re_path(rf"{prefix}/(?P<part_id>[^/.]+)/?$", viewset.as_view(ITEM), name=f"campaign-{name}-detail"),
    ]


notify_routes = [
    # Seed 002's function names, so a client only changes its base URL.
    path("notify/get-recommended-campaigns", notify.RecommendView.as_view(), name="notify-recommend"),
    path("notify/user-embedding", notify.UserEmbeddingView.as_view(), name="notify-user-embedding"),
    path("notify/create-notification-schedule", notify.ScheduleView.as_view(), name="notify-schedule"),
    path("notify/create-delivery-schedule", notify.DeliveryScheduleView.as_view(), name="notify-delivery"),
    path("notify/schedules/<str:schedule_id>", notify.ScheduleDetailView.as_view(), name="notify-schedule-detail"),
]

urlpatterns = [
    *notify_routes,
    # Before the audience detail route, which would take "estimate" for an audience id.
    re_path(
        r"^campaigns/(?P<campaign_id>[^/.]+)/audiences/estimate/?$",
        AudienceViewSet.as_view({"post": "estimate", "get": "estimate"}),
        name="campaign-audiences-estimate",
    ),
    re_path(r"^events/?$", EventIngestView.as_view(), name="events"),
    re_path(
        r"^campaigns/(?P<campaign_id>[^/.]+)/triggers/(?P<trigger_id>[^/.]+)/history/?$",
        TriggerHistoryView.as_view(),
        name="campaign-trigger-history",
    ),
    *part_routes("audiences", AudienceViewSet),
    *part_routes("variants", VariantViewSet),
    *part_routes("channels", ChannelViewSet),
    *part_routes("triggers", TriggerViewSet),
    *router.urls,
]
