from datetime import timedelta

import pytest
from django.utils import timezone

from audiences.models import Segment


def in_future(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def premium_segment(org):
    return Segment.objects.create(
        organization=org, public_id="seg_premium_users", name="Premium users",
        conditions=[{"field": "attributes.plan", "operator": "eq", "value": "premium"}],
    )  # fmt: skip


@pytest.fixture
def new_year_body(premium_segment):
    """Seed 004's create example, moved into the future."""
    return {
        "name": "New Year Promotion 2026",
        "description": "Promotional campaign for new year",
        "campaign_type": "scheduled",
        "schedule_type": "one_time",
        "scheduled_at": in_future(days=40),
        "timezone": "America/New_York",
        "audiences": [{"segment_type": "include", "segment_id": "seg_premium_users"}],
        "channels": [
            {
                "channel_type": "email",
                "email_subject": "Happy New Year, {{first_name}}!",
                "email_body_html": "<html><body>Hi {{ first_name }}</body></html>",
            }
        ],
        "holdout_percentage": 5,
    }


@pytest.fixture
def triggered_body():
    return {
        "name": "Welcome after first booking",
        "campaign_type": "triggered",
        "triggers": [{"event_type": "booking_completed", "delay_minutes": 30,
                      "conditions": [{"field": "properties.amount", "operator": "gte", "value": 100}]}],
        "channels": [{"channel_type": "sms", "sms_body": "Thanks {{ first_name }}!"}],
    }  # fmt: skip


@pytest.fixture
def create(api_client):
    def make(body):
        response = api_client.post("/api/v1/campaigns", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["campaign"]

    return make
