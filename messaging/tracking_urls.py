"""Public routes of the links inside messages, at the root (short URLs in every email and SMS)."""

from django.urls import path

from messaging import tracking_views

app_name = "tracking"

urlpatterns = [
    path("t/o/<str:token>", tracking_views.open_pixel, name="open"),
    path("t/c/<str:token>", tracking_views.click, name="click"),
    path("u/<str:token>", tracking_views.unsubscribe, name="unsubscribe"),
]
