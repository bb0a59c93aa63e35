"""The campaign lifecycle: one function per transition.

    scheduled campaigns: draft → scheduled → running → completed (recurring: running → scheduled)
    triggered campaigns: draft → active ⇄ paused
    scheduled or running ⇄ paused;  any non-final → cancelled

Each function locks the row, checks the transition, writes the audit fields and
emits the domain event in one transaction. A forbidden transition raises
InvalidStateTransition (409) and changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from campaigns import scheduling, validation
from campaigns.events import emit
from campaigns.models import Campaign, CampaignStatus, CampaignType, ExecutionStatus, ScheduleType
from messaging.models import Message, MessageStatus, SkipReason
from shokti.errors import InvalidStateTransition

S = CampaignStatus


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    campaign_types: frozenset = frozenset(CampaignType.values)


TRANSITIONS = {
    t.action: t
    for t in [
        Transition("schedule", frozenset({S.DRAFT}), frozenset({CampaignType.SCHEDULED})),
        Transition("activate", frozenset({S.DRAFT}), frozenset({CampaignType.TRIGGERED})),
        Transition("pause", frozenset({S.SCHEDULED, S.RUNNING, S.ACTIVE})),
        Transition("resume", frozenset({S.PAUSED})),
        Transition("cancel", frozenset({S.DRAFT, S.SCHEDULED, S.ACTIVE, S.RUNNING, S.PAUSED})),
        Transition("start", frozenset({S.DRAFT, S.SCHEDULED, S.RUNNING}), frozenset({CampaignType.SCHEDULED})),
        Transition("finish", frozenset({S.RUNNING})),
        Transition("edit", frozenset({S.DRAFT, S.SCHEDULED, S.PAUSED})),
        Transition("delete", frozenset({S.DRAFT, S.SCHEDULED, S.PAUSED, S.COMPLETED, S.CANCELLED})),
    ]
}


def allowed_actions(campaign: Campaign) -> list[str]:
    """The transitions open to a campaign now (for the console's buttons)."""
    return [
        action
        for action, t in TRANSITIONS.items()
        if campaign.status in t.sources and campaign.campaign_type in t.campaign_types
    ]


def check(campaign: Campaign, action: str) -> None:
    transition = TRANSITIONS[action]
    if campaign.campaign_type not in transition.campaign_types:
        raise InvalidStateTransition(
            f"A {campaign.campaign_type} campaign cannot {action}.",
            details={"action": action, "campaign_type": campaign.campaign_type, "status": campaign.status},
        )
    if campaign.status not in transition.sources:
        raise InvalidStateTransition(
            f"Cannot {action} a campaign that is {campaign.status}.",
            details={"action": action, "status": campaign.status, "allowed_from": sorted(transition.sources)},
        )


def lock_for(campaign: Campaign, action: str) -> Campaign:
    """Re-reads the row under a lock so two concurrent transitions cannot both pass the check."""
    locked = Campaign.objects.select_for_update().select_related("organization").get(pk=campaign.pk)
    check(locked, action)
    return locked


def _save(campaign: Campaign, actor: str, *fields: str) -> None:
    campaign.updated_by = actor
    campaign.save(update_fields=[*fields, "status", "updated_by", "updated_at"])


@transaction.atomic
def campaign_schedule(campaign: Campaign, *, actor: str, scheduled_at: datetime | None = None) -> Campaign:
    """Draft → scheduled. A one-time campaign may move its time here (at least 5 minutes ahead)."""
    campaign = lock_for(campaign, "schedule")
    if scheduled_at is not None:
        campaign.scheduled_at = scheduled_at
        if not campaign.schedule_type:
            campaign.schedule_type = ScheduleType.ONE_TIME
    validation.check_schedule(campaign)
    validation.check_ready_to_launch(campaign)
    campaign.status = S.SCHEDULED
    campaign.scheduled_by = actor
    _save(campaign, actor, "scheduled_at", "schedule_type", "scheduled_by")
    scheduling.campaign_schedule_entry_write(campaign)
    emit(
        "campaign.scheduled",
        campaign,
        scheduled_at=campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        cron_expression=campaign.cron_expression or None,
        timezone=campaign.timezone,
    )
    return campaign


@transaction.atomic
def campaign_activate(campaign: Campaign, *, actor: str) -> Campaign:
    """Draft → active: a triggered campaign starts listening to its events."""
    campaign = lock_for(campaign, "activate")
    validation.check_ready_to_launch(campaign)
    campaign.status = S.ACTIVE
    campaign.activated_at = timezone.now()
    _save(campaign, actor, "activated_at")
    emit("campaign.activated", campaign, activated_at=campaign.activated_at.isoformat())
    return campaign


@transaction.atomic
def campaign_pause(campaign: Campaign, *, actor: str) -> Campaign:
    campaign = lock_for(campaign, "pause")
    campaign.status_before_pause = campaign.status
    campaign.status = S.PAUSED
    campaign.paused_by = actor
    campaign.paused_at = timezone.now()
    _save(campaign, actor, "status_before_pause", "paused_by", "paused_at")
    scheduling.campaign_schedule_entry_enable(campaign, enabled=False)
    # Workers check the campaign before claiming, so sending stops within one batch.
    campaign.executions.filter(status=ExecutionStatus.RUNNING).update(
        status=ExecutionStatus.PAUSED, paused_at=timezone.now()
    )
    sent = sum(campaign.executions.values_list("messages_sent", flat=True))
    emit("campaign.paused", campaign, paused_by=actor, messages_sent=sent)
    return campaign


@transaction.atomic
def campaign_resume(campaign: Campaign, *, actor: str) -> Campaign:
    """Paused → the state it was paused from (scheduled, running or active)."""
    campaign = lock_for(campaign, "resume")
    campaign.status = campaign.status_before_pause or (
        S.ACTIVE if campaign.campaign_type == CampaignType.TRIGGERED else S.SCHEDULED
    )
    campaign.status_before_pause = ""
    _save(campaign, actor, "status_before_pause")
    scheduling.campaign_schedule_entry_enable(campaign, enabled=True)
    resumed = list(campaign.executions.filter(status=ExecutionStatus.PAUSED).values_list("pk", flat=True))
    campaign.executions.filter(pk__in=resumed).update(status=ExecutionStatus.RUNNING, paused_at=None)
    if resumed:
        from campaigns.tasks import kick

        transaction.on_commit(lambda: [kick(pk, chains=2) for pk in resumed])
    emit("campaign.resumed", campaign, resumed_by=actor, status=campaign.status)
    return campaign


@transaction.atomic
def campaign_cancel(campaign: Campaign, *, actor: str, reason: str = "") -> Campaign:
    campaign = lock_for(campaign, "cancel")
    campaign.status = S.CANCELLED
    campaign.cancelled_by = actor
    campaign.cancelled_at = timezone.now()
    campaign.cancelled_reason = reason
    _save(campaign, actor, "cancelled_by", "cancelled_at", "cancelled_reason")
    scheduling.campaign_schedule_entry_delete(campaign)
    unfinished = campaign.executions.filter(
        status__in=[ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.PAUSED]
    )
    Message.objects.filter(execution__in=unfinished, status__in=[MessageStatus.QUEUED, MessageStatus.DEFERRED]).update(
        status=MessageStatus.SKIPPED, skip_reason=SkipReason.CAMPAIGN_CANCELLED
    )
    unfinished.update(status=ExecutionStatus.CANCELLED, completed_at=timezone.now())
    emit("campaign.cancelled", campaign, cancelled_by=actor, reason=reason)
    return campaign


@transaction.atomic
def campaign_start(campaign: Campaign, *, actor: str, execution_id: str, audience_size: int = 0) -> Campaign:
    """Scheduled (or a draft run by hand) → running, when an execution begins."""
    campaign = lock_for(campaign, "start")
    if campaign.status == S.DRAFT:
        validation.check_ready_to_launch(campaign)
    campaign.status = S.RUNNING
    _save(campaign, actor)
    emit("campaign.started", campaign, execution_id=execution_id, audience_size=audience_size)
    return campaign


@transaction.atomic
def campaign_finish(campaign: Campaign, *, actor: str, execution_id: str, sent: int, delivered: int) -> Campaign:
    """Running → completed; a recurring campaign goes back to scheduled for its next occurrence."""
    campaign = lock_for(campaign, "finish")
    recurring = campaign.schedule_type == ScheduleType.RECURRING
    campaign.status = S.SCHEDULED if recurring else S.COMPLETED
    if not recurring:
        campaign.completed_at = timezone.now()
        scheduling.campaign_schedule_entry_delete(campaign)
    _save(campaign, actor, "completed_at")
    emit("campaign.completed", campaign, execution_id=execution_id, total_sent=sent, total_delivered=delivered)
    return campaign
