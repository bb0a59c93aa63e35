"""Counters kept live by the engine's signals agree with a rebuild from the message rows."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.attribution import conversions_record_for_events
from analytics.models import Counter, Metric
from audiences.models import Event
from campaigns.execution import execution_start
from messaging import tracking
from messaging.models import Message
from tests.campaigns.engine import bulk_contacts, ready_campaign

pytestmark = pytest.mark.django_db


def snapshot(campaign) -> dict:
    return {
        (c.execution_id, c.variant_key, c.channel_type, c.bucket, c.metric): c.count
        for c in Counter.objects.filter(campaign=campaign)
    }


def totals(campaign) -> dict:
    result = {}
    for (_, _, _, _, metric), count in snapshot(campaign).items():
        result[metric] = result.get(metric, 0) + count
    return result


def test_live_counters_agree_with_a_rebuild_after_a_run_with_engagement_and_conversions(
    org, smtp, eager, django_capture_on_commit_callbacks
):
    bulk_contacts(org, 30)
    campaign = ready_campaign(
        org, variants=[("A", 50, False), ("B", 50, False)], holdout=20, conversion_event_type="purchase",
        attribution_model="linear",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        execution, _ = execution_start(campaign, execution_type="manual", occurrence_key="m1", actor="tester")
    sent = list(Message.objects.filter(execution=execution, status="sent").select_related("contact", "campaign"))
    held = list(Message.objects.filter(execution=execution, skip_reason="holdout").select_related("contact"))
    assert sent and held
    later = timezone.now() + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        for message in sent[:10]:
            tracking.message_record_delivered(message=message, at=later)
        for message in sent[:6]:
            tracking.message_record_open(message=message)
        tracking.message_record_open(message=sent[0])  # a second open: total, not unique
        for message in sent[:3]:
            tracking.message_record_click(message=message, url="https://example.com/a")
        tracking.message_record_bounce(message=sent[12], bounce_type="soft", reason="mailbox full", at=later)
    events = [
        Event.objects.create(organization=org, event_id=f"buy-{m.pk}", event_type="purchase",
                             user_id=m.contact.external_id, contact=m.contact, occurred_at=later,
                             properties={"value": 100})
        for m in [*sent[:4], held[0]]
    ]  # fmt: skip
    conversions_record_for_events(events)

    live = snapshot(campaign)
    counts = totals(campaign)
    assert counts[Metric.SENT] == len(sent)
    assert counts[Metric.DELIVERED] == 10
    assert counts[Metric.OPENED] == 6 and counts[Metric.OPENS_REPEAT] >= 1
    assert counts[Metric.CLICKED] == 3
    assert counts[Metric.BOUNCED] == 1
    assert counts[Metric.CONVERTED] == 4
    assert counts[Metric.HOLDOUT_CONVERTED] == 1
    assert counts[Metric.skipped("holdout")] == len(held)

    call_command("rebuild_counters")
    assert snapshot(campaign) == live


def test_a_rebuild_of_one_campaign_leaves_the_others_alone(org, smtp, eager, django_capture_on_commit_callbacks):
    bulk_contacts(org, 5)
    first, second = ready_campaign(org, name="one"), ready_campaign(org, name="two")
    with django_capture_on_commit_callbacks(execute=True):
        execution_start(first, execution_type="manual", occurrence_key="a", actor="tester")
        execution_start(second, execution_type="manual", occurrence_key="b", actor="tester")
    Counter.objects.filter(campaign=second).update(count=99)
    call_command("rebuild_counters", "--campaign", first.public_id)
    assert set(Counter.objects.filter(campaign=second).values_list("count", flat=True)) == {99}
    assert totals(first)[Metric.SENT] == 5
