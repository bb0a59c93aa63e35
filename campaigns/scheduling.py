"""Each scheduled campaign's celery-beat entry, and the occurrence each firing stands for.

One-time campaigns get a clocked (one-off) entry; recurring ones a crontab in the
campaign's timezone, weekdays only when `exclude_weekends`. Beat only fans out:
the fired task starts an execution keyed by its occurrence, so two beats (or a
retried task) firing the same occurrence create one execution.
"""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, PeriodicTask

from campaigns.models import Campaign, ScheduleType

FIRE_TASK = "campaigns.tasks.fire_scheduled_campaign"
# A firing this late is still the occurrence it was meant for (beat downtime, a slow queue).
MAX_FIRING_DELAY = timedelta(hours=6)


def entry_name(campaign: Campaign) -> str:
    return f"campaign:{campaign.public_id}"


def _cron_fields(campaign: Campaign) -> dict[str, str]:
    minute, hour, day_of_month, month_of_year, day_of_week = campaign.cron_expression.split()
    if campaign.exclude_weekends and day_of_week == "*":
        day_of_week = "1-5"
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def campaign_schedule_entry_write(campaign: Campaign) -> PeriodicTask:
    """Creates or replaces the beat entry for a scheduled campaign (enabled)."""
    defaults = {"task": FIRE_TASK, "args": json.dumps([campaign.pk]), "enabled": True, "expires": None,
                "clocked": None, "crontab": None, "one_off": False, "description": campaign.name[:200]}  # fmt: skip
    if campaign.schedule_type == ScheduleType.RECURRING:
        defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(
            **_cron_fields(campaign), timezone=ZoneInfo(campaign.timezone)
        )
    else:
        defaults["clocked"], _ = ClockedSchedule.objects.get_or_create(clocked_time=campaign.scheduled_at)
        defaults["one_off"] = True
    entry, _ = PeriodicTask.objects.update_or_create(name=entry_name(campaign), defaults=defaults)
    return entry


def campaign_schedule_entry_enable(campaign: Campaign, *, enabled: bool) -> None:
    # save() rather than update(): beat notices changes through the model's signals.
    for entry in PeriodicTask.objects.filter(name=entry_name(campaign)):
        entry.enabled = enabled
        entry.save(update_fields=["enabled"])


def campaign_schedule_entry_delete(campaign: Campaign) -> None:
    for entry in PeriodicTask.objects.filter(name=entry_name(campaign)):
        entry.delete()


def occurrence_key(campaign: Campaign, fired_at: datetime | None = None) -> str | None:
    """The occurrence a firing at `fired_at` stands for, or None when nothing is due.

    One-time: its scheduled_at. Recurring: the latest cron time at or before the
    firing, found by stepping back minute by minute in the campaign's timezone.
    """
    fired_at = fired_at or timezone.now()
    if campaign.schedule_type != ScheduleType.RECURRING:
        if campaign.scheduled_at is None or campaign.scheduled_at > fired_at + timedelta(minutes=1):
            return None
        return f"at:{campaign.scheduled_at.astimezone(ZoneInfo('UTC')).isoformat()}"
    fields = _cron_fields(campaign)
    schedule = crontab(**fields)
    local = fired_at.astimezone(ZoneInfo(campaign.timezone)).replace(second=0, microsecond=0)
    for step in range(int(MAX_FIRING_DELAY.total_seconds() // 60) + 1):
        candidate = local - timedelta(minutes=step)
        if (
            candidate.minute in schedule.minute
            and candidate.hour in schedule.hour
            and candidate.day in schedule.day_of_month
            and candidate.month in schedule.month_of_year
            and candidate.isoweekday() % 7 in schedule.day_of_week  # celery counts Sunday as 0
        ):
            return f"cron:{candidate.astimezone(ZoneInfo('UTC')).isoformat()}"
    return None
