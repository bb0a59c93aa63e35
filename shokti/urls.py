from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from campaigns.api.smartengage import JobHistoryView, RunSegmentView, SendBulkView, SendSingleView
from messaging.customer_api import EventsView, RequestOtpView, ServicesView, VerifyOtpView
from messaging.deeplink_views import book
from shokti import health, prometheus
from shokti.api import MeView
from shokti.jobs import JobStatusView

admin.site.site_header = "Shokti console"
admin.site.site_title = "Shokti"
admin.site.index_title = "Campaigns, audiences and messages"

api_v1 = [
    path("me", MeView.as_view(), name="me"),
    path("", include("audiences.urls")),
    # Before the campaign routes: /campaigns/{id}/metrics is served by analytics.
    path("", include("analytics.urls")),
    path("", include("campaigns.urls")),
    path("", include("messaging.urls")),
    path("", include("streams.urls")),
]

internal = [
    path("jobs/status", JobStatusView.as_view(), name="jobs-status"),
    path("jobs/history", JobHistoryView.as_view(), name="jobs-history"),
    path("ai/smartengage/run-segment", RunSegmentView.as_view(), name="smartengage-run-segment"),
]

# Declared before the Django admin's routes, which would otherwise claim admin/smartengage/.
smartengage_admin = [
    path("send-single", SendSingleView.as_view(), name="send-single"),
    path("send-bulk", SendBulkView.as_view(), name="send-bulk"),
]

urlpatterns = [
    path("health", health.live, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", prometheus.metrics, name="prometheus-metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("internal/", include((internal, "internal"), namespace="internal")),
    path("", include("messaging.tracking_urls")),
    path("analytics/", include("analytics.page_urls")),
    path("book", book, name="smartengage-book"),
    # Customers of seed 003: sign-in by emailed code, their events, the services they book.
    path("auth/request-otp", RequestOtpView.as_view(), name="customer-request-otp"),
    path("auth/verify-otp", VerifyOtpView.as_view(), name="customer-verify-otp"),
    path("events", EventsView.as_view(), name="customer-events"),
    path("services", ServicesView.as_view(), name="customer-services"),
    path("admin/smartengage/", include((smartengage_admin, "smartengage"), namespace="smartengage")),
    path("admin/", admin.site.urls),
]

handler404 = "shokti.errors.handler404"
handler500 = "shokti.errors.handler500"
