"""Resolution and policy: set-based, stable, and skipping or deferring with reasons."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Count

from audiences.models import Contact, Suppression
from campaigns.assignment import bucket
from campaigns.execution import SendRules, execution_apply_policy, execution_resolve
from campaigns.models import Channel, Variant
from messaging.models import Message
from tests.campaigns.engine import bulk_contacts, new_execution, ready_campaign

pytestmark = pytest.mark.django_db


def statuses(execution) -> dict:
    rows = Message.objects.filter(execution=execution).values("status", "skip_reason").annotate(n=Count("id"))
    return {(row["status"], row["skip_reason"]): row["n"] for row in rows}


def test_it_writes_one_row_per_contact_and_a_rerun_adds_none(org):
    bulk_contacts(org, 120)
    bulk_contacts(org, 30, attributes={"plan": "free"})
    execution = new_execution(ready_campaign(org))
    assert execution_resolve(execution) == 120
    assert execution_resolve(execution) == 0
    assert Message.objects.filter(execution=execution).count() == 120
    assert set(Message.objects.filter(execution=execution).values_list("status", flat=True)) == {"queued"}


def test_exclude_audiences_are_subtracted(org, premium_segment=None):
    from audiences.models import Segment
    from campaigns.models import CampaignAudience

    bulk_contacts(org, 50)
    bulk_contacts(org, 20, locale="en")
    campaign = ready_campaign(org)
    english = Segment.objects.create(
        organization=org, name="English", conditions=[{"field": "locale", "operator": "eq", "value": "en"}]
    )
    CampaignAudience.objects.create(campaign=campaign, segment=english, segment_type="exclude")
    assert execution_resolve(new_execution(campaign)) == 50


def test_holdout_and_variants_split_within_one_point_on_100000_contacts(org, django_assert_max_num_queries):
    bulk_contacts(org, 100_000)
    campaign = ready_campaign(org, variants=[("A", 50, False), ("B", 30, False), ("Control", 20, True)], holdout=5)
    execution = new_execution(campaign)
    with django_assert_max_num_queries(20):
        execution_resolve(execution)
    rows = Message.objects.filter(execution=execution)
    assert rows.count() == 100_000
    holdout = rows.filter(is_holdout=True).count()
    assert abs(holdout / 100_000 - 0.05) < 0.01
    for name, share in [("A", 0.50), ("B", 0.30), ("Control", 0.20)]:
        variant = Variant.objects.get(campaign=campaign, name=name)
        assert abs(rows.filter(variant=variant).count() / 100_000 - share) < 0.01, name
    control = Variant.objects.get(campaign=campaign, name="Control")
    assert rows.filter(variant=control, is_holdout=False).exclude(skip_reason="control").count() == 0
    assert rows.filter(is_holdout=True, skip_reason="holdout", status="skipped").count() == holdout


def test_assignment_is_stable_and_matches_the_python_hash(org):
    ids = bulk_contacts(org, 200)
    campaign = ready_campaign(org, variants=[("A", 50, False), ("B", 50, False)], holdout=10)
    first, second = new_execution(campaign, "one"), new_execution(campaign, "two")
    execution_resolve(first)
    execution_resolve(second)
    arms_first = dict(Message.objects.filter(execution=first).values_list("contact_id", "variant__name"))
    arms_second = dict(Message.objects.filter(execution=second).values_list("contact_id", "variant__name"))
    assert arms_first == arms_second
    holdout = set(Message.objects.filter(execution=first, is_holdout=True).values_list("contact_id", flat=True))
    expected = {cid for cid in ids if bucket(f"{campaign.public_id}:holdout", cid) < 1000}
    assert holdout == expected
    variant_a = {cid for cid, arm in arms_first.items() if arm == "A"}
    assert variant_a == {cid for cid in ids if bucket(f"{campaign.public_id}:variant", cid) < 5000}


def test_a_channel_fails_over_by_priority_when_the_contact_has_no_address(org):
    bulk_contacts(org, 3)
    bulk_contacts(org, 2, email="", phone="+8801711111111")
    bulk_contacts(org, 1, email="", phone="")
    campaign = ready_campaign(org, channels=[
        {"channel_type": "email", "priority": 0, "email_subject": "s", "email_body_text": "t"},
        {"channel_type": "sms", "priority": 1, "sms_body": "hi"},
    ])  # fmt: skip
    execution = new_execution(campaign)
    execution_resolve(execution)
    by_type = dict(
        Message.objects.filter(execution=execution, status="queued").values_list("channel_type").annotate(n=Count("id"))
    )
    assert by_type == {"email": 3, "sms": 2}
    assert statuses(execution)[("skipped", "no_address")] == 1
    sms = Message.objects.filter(execution=execution, channel_type="sms").first()
    assert sms.recipient_address == "+8801711111111"
    assert sms.channel == Channel.objects.get(campaign=campaign, channel_type="sms")


def test_policy_skips_without_consent_suppressed_and_over_the_frequency_cap(org):
    bulk_contacts(org, 10)
    no_marketing = bulk_contacts(org, 2, consent={"marketing": False})
    no_email = bulk_contacts(org, 3, consent={"marketing": True, "email": False})
    suppressed = bulk_contacts(org, 1, email="Gone@Example.com")
    Suppression.objects.create(
        organization=org, channel_type="email", address="gone@example.com", reason="unsubscribed"
    )

    # Two earlier sends to one contact within the window hit a cap of 2 per 24 hours.
    capped_id = bulk_contacts(org, 1)[0]
    earlier = new_execution(ready_campaign(org, name="Earlier"), "earlier")
    execution_resolve(earlier)
    Message.objects.filter(execution=earlier, contact_id=capped_id).update(status="sent", sent_at=datetime.now(UTC))
    org.frequency_cap_messages, org.frequency_cap_hours = 1, 24
    org.save()

    execution = new_execution(ready_campaign(org, name="Now"))
    execution_resolve(execution)
    execution_apply_policy(execution)
    counts = statuses(execution)
    assert counts[("skipped", "no_consent")] == len(no_marketing) + len(no_email)
    assert counts[("skipped", "suppressed")] == len(suppressed)
    assert counts[("skipped", "frequency_cap")] == 1
    assert Message.objects.get(execution=execution, contact_id=capped_id).skip_reason == "frequency_cap"
    assert counts[("queued", "")] == 10


def test_rows_outside_the_send_window_are_deferred_per_timezone(org):
    dhaka = bulk_contacts(org, 4, timezone="Asia/Dhaka")
    new_york = bulk_contacts(org, 3, timezone="America/New_York")
    campaign = ready_campaign(org, send_window_start=9, send_window_end=18)
    execution = new_execution(campaign)
    execution_resolve(execution)
    # 2026-11-23 04:00 UTC is 10:00 in Dhaka (inside) and 23:00 the day before in New York (outside).
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    execution_apply_policy(execution, now=now)
    assert set(Message.objects.filter(execution=execution, contact_id__in=dhaka).values_list("status", flat=True)) == {
        "queued"
    }
    deferred = Message.objects.filter(execution=execution, contact_id__in=new_york)
    assert set(deferred.values_list("status", flat=True)) == {"deferred"}
    # 09:00 in New York on 23 November is 14:00 UTC.
    assert set(deferred.values_list("send_after", flat=True)) == {datetime(2026, 11, 23, 14, 0, tzinfo=UTC)}


def test_quiet_hours_wrap_midnight_and_weekends_are_skipped():
    rules = SendRules(None, None, 22, 8, weekdays_only=True)
    from zoneinfo import ZoneInfo

    dhaka = ZoneInfo("Asia/Dhaka")
    friday_late = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 23:00 Friday in Dhaka
    assert not rules.allows(friday_late.astimezone(dhaka))
    # Saturday and Sunday are out, so the next opening is Monday 08:00 in Dhaka (02:00 UTC).
    assert rules.next_opening(friday_late, dhaka) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_winner_takes_everyone_left(org):
    bulk_contacts(org, 50)
    campaign = ready_campaign(org, variants=[("A", 50, False), ("B", 50, False)])
    winner = Variant.objects.get(campaign=campaign, name="B")
    campaign.winner_variant = winner
    campaign.save()
    execution = new_execution(campaign)
    execution_resolve(execution)
    assert set(Message.objects.filter(execution=execution).values_list("variant_id", flat=True)) == {winner.pk}


def test_holdout_percentage_decimal_is_respected(org):
    bulk_contacts(org, 10)
    campaign = ready_campaign(org, holdout=Decimal("0"))
    execution = new_execution(campaign)
    execution_resolve(execution)
    assert not Message.objects.filter(execution=execution, is_holdout=True).exists()
    assert Contact.objects.count() == 10
