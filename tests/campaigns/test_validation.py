"""Seed 004's validation rules, each refused with the envelope and nothing written."""

import pytest

from campaigns.models import Campaign
from tests.campaigns.conftest import in_future

pytestmark = pytest.mark.django_db


def refused(api_client, body, field_path):
    response = api_client.post("/api/v1/campaigns", body, format="json")
    assert response.status_code == 400, response.json()
    envelope = response.json()
    assert envelope["error_code"] == "INVALID_REQUEST"
    locations = [".".join(str(p) for p in e["loc"]) for e in envelope["details"]["errors"]]
    assert any(loc.startswith(f"body.{field_path}") for loc in locations), locations
    assert Campaign.objects.count() == 0
    return envelope


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"scheduled_at": in_future(minutes=2)}, "scheduled_at"),
        ({"holdout_percentage": 25}, "holdout_percentage"),
        ({"holdout_percentage": -1}, "holdout_percentage"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"schedule_type": "recurring", "cron_expression": "61 * * * *", "scheduled_at": None}, "cron_expression"),
        ({"schedule_type": "recurring", "cron_expression": "* * *", "scheduled_at": None}, "cron_expression"),
        ({"schedule_type": "recurring", "scheduled_at": None}, "cron_expression"),
        ({"schedule_type": "one_time", "scheduled_at": None}, "scheduled_at"),
        ({"schedule_type": ""}, "schedule_type"),
        ({"send_window_start": 24}, "send_window_start"),
        ({"campaign_type": "broadcast"}, "campaign_type"),
        ({"channels": [{"channel_type": "email", "email_subject": "Hi"}]}, "channels.0.email_body_html"),
        ({"channels": [{"channel_type": "sms"}]}, "channels.0.sms_body"),
        ({"channels": [{"channel_type": "webhook"}]}, "channels.0.webhook_url"),
        ({"channels": [{"channel_type": "in_app", "in_app_title": "t"}]}, "channels.0.in_app_body"),
        ({"channels": [{"channel_type": "whatsapp"}]}, "channels.0.whatsapp_body"),
        ({"channels": [{"channel_type": "sms", "sms_body": "{% if %}"}]}, "channels.0.sms_body"),
        ({"channels": [{"channel_type": "fax", "sms_body": "x"}]}, "channels.0.channel_type"),
        ({"audiences": [{"segment_type": "include", "segment_id": "seg_nope"}]}, "audiences.0.segment_id"),
        ({"audiences": [{"segment_type": "include"}]}, "audiences.0.segment_id"),
    ],
)
def test_campaign_create_rules(api_client, new_year_body, change, field):
    refused(api_client, {**new_year_body, **change}, field)


def test_variant_allocations_must_sum_to_100(api_client, new_year_body):
    body = {
        **new_year_body,
        "variants": [{"name": "A", "allocation_percentage": 60}, {"name": "B", "allocation_percentage": 30}],
    }
    envelope = refused(api_client, body, "variants")
    assert "sum to 90" in envelope["error_message"]


def test_at_most_one_control_variant(api_client, new_year_body):
    body = {**new_year_body, "variants": [
        {"name": "A", "allocation_percentage": 50, "is_control": True},
        {"name": "B", "allocation_percentage": 50, "is_control": True},
    ]}  # fmt: skip
    refused(api_client, body, "variants")


def test_a_triggered_campaign_needs_a_trigger(api_client, triggered_body):
    refused(api_client, {**triggered_body, "triggers": []}, "triggers")


def test_trigger_conditions_are_checked(api_client, triggered_body):
    trigger = {"event_type": "booking_completed", "conditions": [{"field": "amount", "operator": "approx", "value": 1}]}
    refused(api_client, {**triggered_body, "triggers": [trigger]}, "triggers.0.conditions.0.operator")
    trigger = {"event_type": "booking_completed", "quiet_hours_start": 22}
    refused(api_client, {**triggered_body, "triggers": [trigger]}, "triggers.0.quiet_hours_end")


def test_schedule_rejects_a_time_less_than_5_minutes_ahead(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    response = api_client.post(
        f"/api/v1/campaigns/{campaign_id}/schedule", {"scheduled_at": in_future(minutes=1)}, format="json"
    )
    assert response.status_code == 400
    assert Campaign.objects.get(public_id=campaign_id).status == "draft"


def test_launch_checks_parts_added_later(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    api_client.post(
        f"/api/v1/campaigns/{campaign_id}/variants", {"name": "B", "allocation_percentage": 50}, format="json"
    )
    response = api_client.post(f"/api/v1/campaigns/{campaign_id}/schedule")
    assert response.status_code == 400
    assert "sum to 50" in response.json()["error_message"]
    assert Campaign.objects.get(public_id=campaign_id).status == "draft"


def test_a_scheduled_campaign_needs_an_include_audience_to_launch(api_client, create, new_year_body):
    campaign_id = create({**new_year_body, "audiences": []})["campaign_id"]
    response = api_client.post(f"/api/v1/campaigns/{campaign_id}/schedule")
    assert response.status_code == 400
    assert response.json()["details"]["errors"][0]["loc"] == ["body", "audiences"]


def test_malformed_json_changes_nothing(api_client):
    response = api_client.post("/api/v1/campaigns", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert Campaign.objects.count() == 0
