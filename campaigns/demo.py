"""Demo campaigns: a scheduled A/B email campaign with a holdout, and a triggered welcome."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from campaigns import lifecycle, services
from campaigns.models import Campaign
from shokti.models import Organization

ACTIVE_CUSTOMERS = [{"field": "last_booking_at", "operator": "within_last_days", "value": 60}]

SCHEDULED = {
    "name": "Winter deep-cleaning offer",
    "description": "A/B test of two subject lines for active customers, with a 5% holdout.",
    "campaign_type": "scheduled",
    "schedule_type": "one_time",
    "timezone": "Asia/Dhaka",
    "send_window_start": 9,
    "send_window_end": 20,
    "holdout_percentage": Decimal("5"),
    "enable_ab_testing": True,
    "auto_winner_enabled": True,
    "auto_winner_metric": "click_rate",
    "auto_winner_min_sample": 50,
    "conversion_event_type": "booking_completed",
    "tags": ["demo", "cleaning"],
    "audiences": [{"segment_type": "include", "segment_query": ACTIVE_CUSTOMERS, "name": "Booked in the last 60 days"}],
    "variants": [
        {
            "name": "A: discount first",
            "allocation_percentage": Decimal("50"),
            "channels": [{
                "channel_type": "email",
                "email_subject": "{{ first_name }}, শীতের আগে বাড়ি ঝকঝকে করুন — ২০% ছাড়",
                "email_body_html": "<p>প্রিয় {{ first_name }},</p><p>শীতের আগে ডিপ ক্লিনিং বুক করুন, কোড <b>WINTER20</b>।</p>"
                                   "<p><a href=\"https://example.com/book?service=cleaning\">এখনই বুক করুন</a></p>",
                "email_body_text": "প্রিয় {{ first_name }}, শীতের আগে ডিপ ক্লিনিং বুক করুন, কোড WINTER20।",
            }],
        },
        {
            "name": "B: comfort first",
            "allocation_percentage": Decimal("50"),
            "channels": [{
                "channel_type": "email",
                "email_subject": "{{ first_name }}, a spotless home for winter",
                "email_body_html": "<p>Hi {{ first_name }},</p><p>Book a deep clean before winter with code <b>WINTER20</b>.</p>"
                                   "<p><a href=\"https://example.com/book?service=cleaning\">Book now</a></p>",
                "email_body_text": "Hi {{ first_name }}, book a deep clean before winter with code WINTER20.",
            }],
        },
    ],
}  # fmt: skip

TRIGGERED = {
    "name": "Thanks after a completed booking",
    "description": "Thanks the customer an hour after a booking completes.",
    "campaign_type": "triggered",
    "tags": ["demo", "lifecycle"],
    "triggers": [{"event_type": "booking_completed", "delay_minutes": 60, "frequency_limit": 1,
                  "frequency_window_hours": 24, "quiet_hours_start": 22, "quiet_hours_end": 8}],
    "channels": [
        {"channel_type": "in_app", "priority": 0, "in_app_title": "ধন্যবাদ, {{ first_name }}!",
         "in_app_body": "আপনার সার্ভিস কেমন লাগলো? রিভিউ দিন।", "in_app_action_url": "https://example.com/review"},
    ],
}  # fmt: skip


def _next_morning(zone: str) -> datetime:
    local_now = timezone.now().astimezone(ZoneInfo(zone))
    return datetime.combine(local_now.date() + timedelta(days=1), time(10, 0), tzinfo=ZoneInfo(zone))


def load_demo_campaigns(organization: Organization) -> int:
    """Creates the demo campaigns once (by name) and launches them; returns how many were created."""
    created = 0
    for body, launch in ((SCHEDULED, "schedule"), (TRIGGERED, "activate")):
        if Campaign.objects.alive().filter(organization=organization, name=body["name"]).exists():
            continue
        data = dict(body)
        if launch == "schedule":
            data["scheduled_at"] = _next_morning(data["timezone"])
        campaign = services.campaign_create(organization=organization, actor="demo", data=data)
        if launch == "schedule":
            lifecycle.campaign_schedule(campaign, actor="demo")
        else:
            lifecycle.campaign_activate(campaign, actor="demo")
        created += 1
    return created
