"""Beat entries follow the lifecycle, and one occurrence makes one execution."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from campaigns import lifecycle, scheduling
from campaigns.execution import execution_start
from campaigns.models import Campaign, Execution
from campaigns.tasks import fire_scheduled_campaign
from tests.campaigns.engine import bulk_contacts, ready_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_time(org):
    bulk_contacts(org, 3)
    return ready_campaign(org, scheduled_at=timezone.now() + timedelta(days=1))


def entry(campaign) -> PeriodicTask | None:
    return (
        PeriodicTask.objects.filter(name=scheduling.entry_name(campaign)).select_related("clocked", "crontab").first()
    )


def test_scheduling_writes_a_clocked_entry_that_pause_resume_and_cancel_follow(one_time):
    lifecycle.campaign_schedule(one_time, actor="tester")
    task = entry(one_time)
    assert task.task == scheduling.FIRE_TASK and task.one_off and task.enabled
    assert task.clocked.clocked_time == one_time.scheduled_at
    lifecycle.campaign_pause(one_time, actor="tester")
    assert entry(one_time).enabled is False
    lifecycle.campaign_resume(one_time, actor="tester")
    assert entry(one_time).enabled is True
    lifecycle.campaign_cancel(one_time, actor="tester", reason="done")
    assert entry(one_time) is None


def test_recurring_campaigns_get_a_crontab_in_their_timezone_on_weekdays(org):
    campaign = ready_campaign(org, schedule_type="recurring", cron_expression="30 9 * * *",
                              timezone="Asia/Dhaka", exclude_weekends=True)  # fmt: skip
    lifecycle.campaign_schedule(campaign, actor="tester")
    cron = entry(campaign).crontab
    assert (cron.minute, cron.hour, cron.day_of_week, str(cron.timezone)) == ("30", "9", "1-5", "Asia/Dhaka")


def test_rescheduling_a_scheduled_campaign_moves_its_entry(one_time, api_client, org, membership):
    lifecycle.campaign_schedule(one_time, actor="tester")
    later = timezone.now() + timedelta(days=3)
    from campaigns.services import campaign_update

    campaign_update(one_time, actor="tester", data={"scheduled_at": later})
    assert entry(one_time).clocked.clocked_time == later


def test_two_firings_of_one_occurrence_make_one_execution(one_time, django_capture_on_commit_callbacks):
    lifecycle.campaign_schedule(one_time, actor="tester")
    Campaign.objects.filter(pk=one_time.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = fire_scheduled_campaign(one_time.pk)
        second = fire_scheduled_campaign(one_time.pk)
    assert first is not None and second is None
    assert Execution.objects.filter(campaign=one_time).count() == 1
    assert len(callbacks) == 1  # one run queued
    assert Campaign.objects.get(pk=one_time.pk).status == "running"


def test_a_firing_before_its_time_starts_nothing(one_time):
    lifecycle.campaign_schedule(one_time, actor="tester")
    assert fire_scheduled_campaign(one_time.pk) is None
    assert not Execution.objects.exists()


def test_a_paused_campaign_fired_by_a_late_beat_starts_nothing(one_time):
    lifecycle.campaign_schedule(one_time, actor="tester")
    lifecycle.campaign_pause(one_time, actor="tester")
    Campaign.objects.filter(pk=one_time.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    assert fire_scheduled_campaign(one_time.pk) is None


def test_recurring_occurrence_is_the_latest_cron_time_in_the_campaigns_timezone(org):
    campaign = ready_campaign(org, schedule_type="recurring", cron_expression="0 9 * * *", timezone="Asia/Dhaka")
    # Two beats firing 03:00:02 and 03:00:58 UTC (09:00 in Dhaka) mean the same occurrence…
    first = scheduling.occurrence_key(campaign, datetime(2026, 11, 23, 3, 0, 2, tzinfo=UTC))
    late = scheduling.occurrence_key(campaign, datetime(2026, 11, 23, 3, 4, 58, tzinfo=UTC))
    assert first == late == "cron:2026-11-23T03:00:00+00:00"
    # …and the next day is another.
    assert scheduling.occurrence_key(campaign, datetime(2026, 11, 24, 3, 0, 1, tzinfo=UTC)) != first


def test_manual_runs_are_idempotent_by_key(org, api_client):
    bulk_contacts(org, 2)
    campaign = ready_campaign(org)
    first, created = execution_start(campaign, execution_type="manual", occurrence_key="manual:abc", actor="t")
    again, created_again = execution_start(campaign, execution_type="manual", occurrence_key="manual:abc", actor="t")
    assert created and not created_again and first.pk == again.pk
