"""The analysts' pages, mounted at /analytics/ by shokti.urls."""

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export/<slug:table>.csv", views.export, name="export-overview"),
    path("campaigns/<str:campaign_id>/", views.campaign, name="campaign"),
    path("campaigns/<str:campaign_id>/export/<slug:table>.csv", views.export, name="export"),
]
