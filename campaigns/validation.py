"""Seed 004's validation rules that span fields or rows.

Single-field rules (lengths, ranges) live in the serializers; the rules here are
checked when a campaign is created and again before it can launch, so a draft
edited through sub-resources cannot slip past them.
"""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from campaigns.models import Campaign, CampaignType, ChannelType, ScheduleType, SegmentType
from messaging.rendering import CHANNEL_TEMPLATE_FIELDS, template_errors
from shokti.errors import ApplicationError


def min_schedule_lead() -> timedelta:
    """Seed 004: at least 5 minutes ahead (SHOKTI_MIN_SCHEDULE_LEAD_SECONDS changes it, e.g. for demos)."""
    return timedelta(seconds=settings.SHOKTI_MIN_SCHEDULE_LEAD_SECONDS)


# What each channel must carry to be sendable: any one field of each inner group.
REQUIRED_CONTENT = {
    ChannelType.EMAIL: [("email_subject",), ("email_body_html", "email_body_text")],
    ChannelType.SMS: [("sms_body",)],
    ChannelType.WHATSAPP: [("whatsapp_body", "whatsapp_template_id")],
    ChannelType.IN_APP: [("in_app_title",), ("in_app_body",)],
    ChannelType.WEBHOOK: [("webhook_url",)],
}


def invalid(errors: list[dict]) -> ApplicationError:
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"][1:])
    return ApplicationError(
        "INVALID_REQUEST",
        f"{field}: {first['msg']}" if field else first["msg"],
        details={"errors": errors},
        error="Validation error",
    )


def error(loc: list, msg: str, kind: str = "value_error") -> dict:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


# --- single values (used by the serializers too) --------------------------------------


def timezone_error(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"'{name}' is not an IANA timezone."
    return None


def cron_error(expression: str) -> str | None:
    fields = expression.split()
    if len(fields) != 5:
        return "A cron expression has five fields: minute hour day-of-month month day-of-week."
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except (ValueError, TypeError) as exc:
        return f"Invalid cron expression: {exc}"
    return None


def scheduled_at_error(value) -> str | None:
    lead = min_schedule_lead()
    if value < timezone.now() + lead:
        minutes = lead.total_seconds() / 60
        return f"Scheduled time must be at least {minutes:g} minutes in the future."
    return None


# --- whole campaigns ----------------------------------------------------------------------


def schedule_errors(campaign: Campaign) -> list[dict]:
    if campaign.campaign_type != CampaignType.SCHEDULED:
        return []
    if campaign.schedule_type == ScheduleType.ONE_TIME:
        if campaign.scheduled_at is None:
            return [error(["scheduled_at"], "A one-time campaign needs scheduled_at.", "missing")]
        message = scheduled_at_error(campaign.scheduled_at)
        return [error(["scheduled_at"], message)] if message else []
    if campaign.schedule_type == ScheduleType.RECURRING:
        if not campaign.cron_expression:
            return [error(["cron_expression"], "A recurring campaign needs cron_expression.", "missing")]
        message = cron_error(campaign.cron_expression)
        return [error(["cron_expression"], message)] if message else []
    return [error(["schedule_type"], "A scheduled campaign needs schedule_type one_time or recurring.", "missing")]


def channel_errors(channel, loc: list) -> list[dict]:
    errors = []
    for group in REQUIRED_CONTENT[channel.channel_type]:
        if not any(getattr(channel, field) for field in group):
            errors.append(
                error([*loc, group[0]], f"A {channel.channel_type} channel needs {' or '.join(group)}.", "missing")
            )
    for field, html in CHANNEL_TEMPLATE_FIELDS[channel.channel_type].items():
        errors.extend(
            error([*loc, field], message, "template_syntax")
            for message in template_errors(getattr(channel, field), html=html)
        )
    return errors


def variant_errors(variants: list) -> list[dict]:
    if not variants:
        return []
    errors = []
    total = sum((Decimal(str(v.allocation_percentage)) for v in variants), Decimal(0))
    if total != 100:
        errors.append(error(["variants"], f"Variant allocations sum to {total}; they must sum to 100."))
    if sum(1 for v in variants if v.is_control) > 1:
        errors.append(error(["variants"], "At most one variant may be the control."))
    return errors


def launch_errors(campaign: Campaign) -> list[dict]:
    """Everything a campaign must have before it can be scheduled, activated or run."""
    errors = []
    variants = list(campaign.variants.all())
    channels = [c for c in campaign.channels.all() if c.enabled]
    errors.extend(variant_errors(variants))
    if not channels:
        errors.append(error(["channels"], "A campaign needs at least one enabled channel.", "missing"))
    for index, channel in enumerate(channels):
        errors.extend(channel_errors(channel, ["channels", index]))
    if campaign.campaign_type == CampaignType.SCHEDULED:
        includes = [a for a in campaign.audiences.all() if a.segment_type == SegmentType.INCLUDE]
        if not includes:
            errors.append(error(["audiences"], "A scheduled campaign needs an include audience.", "missing"))
    elif not campaign.triggers.filter(enabled=True).exists():
        errors.append(error(["triggers"], "A triggered campaign needs an enabled trigger.", "missing"))
    if campaign.auto_winner_enabled:
        if not campaign.auto_winner_metric:
            errors.append(error(["auto_winner_metric"], "Auto-winner needs a metric.", "missing"))
        if len([v for v in variants if not v.is_control]) < 2:
            errors.append(error(["variants"], "Auto-winner needs at least two variants that send."))
    return errors


def check_schedule(campaign: Campaign) -> None:
    errors = schedule_errors(campaign)
    if errors:
        raise invalid(errors)


def check_ready_to_launch(campaign: Campaign) -> None:
    errors = launch_errors(campaign)
    if errors:
        raise invalid(errors)
