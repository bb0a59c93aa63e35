"""The metrics endpoint under /api/v1/ (included by shokti.urls before the campaign routes)."""

from django.urls import re_path

from analytics.api import CampaignMetricsView

urlpatterns = [
    re_path(r"^campaigns/(?P<campaign_id>[^/.]+)/metrics/?$", CampaignMetricsView.as_view(), name="campaign-metrics"),
]
