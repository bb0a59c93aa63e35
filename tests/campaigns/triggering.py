"""Helpers for trigger tests: an active triggered campaign and events at a chosen time."""

from datetime import datetime

from django.utils import timezone

from audiences.models import Contact, Event
from campaigns.models import Campaign, Channel, Trigger, TriggerHistory
from campaigns.triggers import triggers_evaluate


def triggered_campaign(org, *, status="active", channel=None, **trigger_fields) -> tuple[Campaign, Trigger]:
    """An active triggered email campaign on `booking_completed`, no delay, frequency 1 per 24 h."""
    campaign = Campaign.objects.create(
        organization=org, name="Thanks", campaign_type="triggered", status=status, created_by="tester"
    )
    Channel.objects.create(
        campaign=campaign, **(channel or {"channel_type": "email", "email_subject": "Thanks", "email_body_text": "Hi"})
    )
    trigger = Trigger.objects.create(campaign=campaign, **{"event_type": "booking_completed", **trigger_fields})
    return campaign, trigger


def event(contact: Contact, *, event_id: str, event_type: str = "booking_completed", **properties) -> Event:
    return Event.objects.create(
        organization=contact.organization, contact=contact, user_id=contact.external_id, event_id=event_id,
        event_type=event_type, properties=properties, occurred_at=timezone.now(),
    )  # fmt: skip


def evaluate(org, *events: Event, now: datetime) -> list[TriggerHistory]:
    """Evaluates the events at `now`; returns their decisions in event order."""
    triggers_evaluate(organization_id=org.pk, event_ids=[e.event_id for e in events], now=now)
    rows = {(row.event_id, row.trigger_id): row for row in TriggerHistory.objects.filter(organization=org)}
    return [row for e in events for key, row in rows.items() if key[0] == e.event_id]
