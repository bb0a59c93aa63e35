"""Trigger evaluation: conditions, skip reasons, frequency, quiet hours and the delay, on a controlled clock."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from audiences.models import Segment
from campaigns import lifecycle
from campaigns.dispatch import execution_send_batch
from campaigns.models import CampaignAudience, Execution, TriggerHistory
from messaging.models import Message
from tests.campaigns.triggering import evaluate, event, triggered_campaign
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 12:00 in Dhaka, where contacts live


@pytest.fixture
def contact(org):
    return ContactFactory(organization=org, external_id="usr_1", attributes={"plan": "premium", "age": 30})


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        ({"field": "properties.amount", "operator": "eq", "value": 120}, True),
        ({"field": "properties.amount", "operator": "eq", "value": 99}, False),
        ({"field": "properties.amount", "operator": "ne", "value": 99}, True),
        ({"field": "properties.amount", "operator": "gt", "value": 119}, True),
        ({"field": "properties.amount", "operator": "gt", "value": 120}, False),
        ({"field": "properties.amount", "operator": "gte", "value": 120}, True),
        ({"field": "properties.amount", "operator": "lt", "value": 120}, False),
        ({"field": "properties.amount", "operator": "lte", "value": 120}, True),
        ({"field": "properties.city", "operator": "in", "value": ["Dhaka", "Khulna"]}, True),
        ({"field": "properties.city", "operator": "in", "value": ["Sylhet"]}, False),
        ({"field": "properties.city", "operator": "contains", "value": "hak"}, True),
        ({"field": "properties.coupon", "operator": "exists", "value": True}, False),
        ({"field": "properties.coupon", "operator": "exists", "value": False}, True),
        ({"field": "properties.amount", "operator": "eq", "value": "120"}, False),  # text never equals a number
        ({"field": "attributes.plan", "operator": "eq", "value": "premium"}, True),
        ({"field": "attributes.age", "operator": "gte", "value": 31}, False),
        ({"field": "created_at", "operator": "within_last_days", "value": 1}, True),
        ({"field": "events.count", "event_type": "booking_completed", "operator": "gte", "value": 1}, True),
    ],
)
def test_each_condition_operator(org, contact, condition, fires):
    triggered_campaign(org, conditions=[condition])
    (row,) = evaluate(org, event(contact, event_id="e1", amount=120, city="Dhaka"), now=NOON)
    assert row.triggered is fires
    assert row.skip_reason == ("" if fires else "conditions_not_met")


def test_a_triggered_event_queues_one_message_through_the_engine(org, contact):
    triggered_campaign(org)
    (row,) = evaluate(org, event(contact, event_id="e1"), now=NOON)
    assert row.triggered and row.execution.execution_type == "triggered"
    message = Message.objects.get(execution=row.execution)
    assert (message.contact, message.status, message.recipient_address) == (contact, "queued", contact.email)
    assert execution_send_batch(row.execution, now=NOON).sent == 1
    assert mail.outbox[0].to == [contact.email]


def test_the_delay_is_a_scheduled_send_on_the_engine_clock(org, contact):
    triggered_campaign(org, delay_minutes=30, delay_days=1)
    (row,) = evaluate(org, event(contact, event_id="e1"), now=NOON)
    due = NOON + timedelta(days=1, minutes=30)
    assert row.scheduled_send_at == due
    assert Message.objects.get(execution=row.execution).send_after == due
    assert execution_send_batch(row.execution, now=due - timedelta(minutes=1)).claimed == 0
    assert execution_send_batch(row.execution, now=due).sent == 1
    assert len(mail.outbox) == 1


def test_a_paused_campaign_records_and_skips_and_queues_nothing_for_later(org, contact):
    campaign, _ = triggered_campaign(org)
    lifecycle.campaign_pause(campaign, actor="tester")
    (row,) = evaluate(org, event(contact, event_id="e1"), now=NOON)
    assert (row.triggered, row.skip_reason) == (False, "campaign_paused")
    lifecycle.campaign_resume(campaign, actor="tester")
    assert not Execution.objects.exists() and not Message.objects.exists()


def test_a_contact_outside_the_campaign_audience_is_not_in_segment(org, contact):
    campaign, _ = triggered_campaign(org)
    basic = Segment.objects.create(organization=org, name="Basic",
                                   conditions=[{"field": "attributes.plan", "operator": "eq", "value": "basic"}])  # fmt: skip
    CampaignAudience.objects.create(campaign=campaign, segment=basic)
    (row,) = evaluate(org, event(contact, event_id="e1"), now=NOON)
    assert row.skip_reason == "not_in_segment"


def test_a_second_event_while_a_send_waits_is_already_triggered(org, contact):
    triggered_campaign(org, delay_minutes=60, frequency_limit=5)
    first, second = evaluate(org, event(contact, event_id="e1"), event(contact, event_id="e2"), now=NOON)
    assert first.triggered and second.skip_reason == "already_triggered"


def test_the_frequency_limit_counts_decisions_per_contact_within_the_window(org, contact):
    triggered_campaign(org, frequency_limit=1, frequency_window_hours=24)
    (first,) = evaluate(org, event(contact, event_id="e1"), now=NOON)
    assert execution_send_batch(first.execution, now=NOON).sent == 1
    (second,) = evaluate(org, event(contact, event_id="e2"), now=NOON + timedelta(hours=23))
    (third,) = evaluate(org, event(contact, event_id="e3"), now=NOON + timedelta(hours=25))
    assert (second.skip_reason, third.triggered) == ("frequency_limit", True)


def test_quiet_hours_in_the_contact_timezone_defer_the_send(org, contact):
    # 22:00-08:00 in Dhaka (UTC+6); 23:00 there is 17:00 UTC.
    triggered_campaign(org, quiet_hours_start=22, quiet_hours_end=8)
    late = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    (row,) = evaluate(org, event(contact, event_id="e1"), now=late)
    assert (row.triggered, row.deferred_reason) == (True, "quiet_hours")
    assert row.scheduled_send_at == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 08:00 in Dhaka
    assert execution_send_batch(row.execution, now=late).claimed == 0


def test_quiet_hours_in_a_fixed_timezone(org, contact):
    triggered_campaign(org, quiet_hours_start=22, quiet_hours_end=8, quiet_hours_timezone="America/New_York")
    (row,) = evaluate(org, event(contact, event_id="e1"), now=NOON)  # 01:00 in New York
    assert row.scheduled_send_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_evaluating_the_same_events_twice_decides_and_sends_once(org, contact):
    triggered_campaign(org)
    e1 = event(contact, event_id="e1")
    evaluate(org, e1, now=NOON)
    evaluate(org, e1, now=NOON + timedelta(minutes=1))
    assert TriggerHistory.objects.count() == 1 and Message.objects.count() == 1


def test_a_skipped_message_completes_its_triggered_run(org, contact):
    contact.consent = {"marketing": False}
    contact.save()
    triggered_campaign(org)
    (row,) = evaluate(org, event(contact, event_id="e1"), now=NOON)
    assert row.triggered
    assert Message.objects.get().skip_reason == "no_consent"
    assert Execution.objects.get().status == "completed"


def test_every_matching_campaign_decides_for_its_own_trigger(org, contact):
    triggered_campaign(org)
    triggered_campaign(org, conditions=[{"field": "properties.amount", "operator": "gt", "value": 1000}])
    triggered_campaign(org, event_type="app_open")
    rows = evaluate(org, event(contact, event_id="e1", amount=5), now=NOON)
    assert sorted(row.skip_reason for row in rows) == ["", "conditions_not_met"]


def test_the_history_endpoint_lists_and_filters_decisions(api_client, client_for, other_org, org, contact):
    campaign, trigger = triggered_campaign(
        org, conditions=[{"field": "properties.amount", "operator": "gt", "value": 9}]
    )
    evaluate(org, event(contact, event_id="e1", amount=10), event(contact, event_id="e2", amount=1), now=NOON)
    url = f"/api/v1/campaigns/{campaign.public_id}/triggers/{trigger.public_id}/history"
    body = api_client.get(url).json()
    assert body["total"] == 2 and body["has_more"] is False
    assert {row["event_id"]: row["skip_reason"] for row in body["history"]} == {"e1": None, "e2": "conditions_not_met"}
    only = api_client.get(url, {"skip_reason": "conditions_not_met"}).json()["history"]
    assert [row["event_id"] for row in only] == ["e2"]
    assert api_client.get(url, {"skip_reason": "bogus"}).status_code == 400
    assert client_for(other_org).get(url).status_code == 404


def test_trigger_conditions_are_validated_with_the_segment_grammar(api_client, org):
    campaign, trigger = triggered_campaign(org, status="draft")
    url = f"/api/v1/campaigns/{campaign.public_id}/triggers/{trigger.public_id}"
    bad = {"conditions": [{"field": "properties.amount", "operator": "gt", "value": True}]}
    response = api_client.patch(url, bad, format="json")
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_REQUEST"
    trigger.refresh_from_db()
    assert trigger.conditions == []
