"""Celery tasks: thin wrappers that load rows by primary key and call one service."""

import logging

from celery import shared_task
from django.utils import timezone

from campaigns import dispatch, execution, scheduling, triggers
from campaigns.models import Campaign, CampaignStatus, Execution, ExecutionStatus, ExecutionType

logger = logging.getLogger(__name__)

# Batches run as chains: each batch queues the next, this many chains per execution.
DISPATCH_CHAINS = 4
SOON = 60  # seconds: nearer deferred rows get a timed batch, later ones wait for the periodic kick


@shared_task(acks_late=True)
def fire_scheduled_campaign(campaign_pk: int) -> str | None:
    """Fired by celery-beat: starts the execution of the occurrence that is due, once."""
    campaign = Campaign.objects.alive().filter(pk=campaign_pk).first()
    if campaign is None or campaign.status not in {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING}:
        return None
    key = scheduling.occurrence_key(campaign, timezone.now())
    if key is None:
        return None
    run, created = execution.execution_start(
        campaign, execution_type=ExecutionType.SCHEDULED, occurrence_key=key, actor="system"
    )
    return run.public_id if created else None


@shared_task(acks_late=True)
def run_execution(execution_pk: int) -> None:
    run = Execution.objects.select_related("campaign__organization").get(pk=execution_pk)
    if execution.execution_run(run):
        kick(run.pk, chains=DISPATCH_CHAINS)


def kick(execution_pk: int, *, chains: int = 1) -> None:
    for _ in range(chains):
        send_batch.delay(execution_pk)


@shared_task(acks_late=True)
def send_batch(execution_pk: int) -> None:
    run = Execution.objects.get(pk=execution_pk)
    result = dispatch.execution_send_batch(run)
    if result.stopped:
        return
    if result.retry_in:
        send_batch.apply_async((execution_pk,), countdown=result.retry_in)
    elif result.claimed:
        send_batch.delay(execution_pk)
    else:
        due = dispatch.next_due_at(run)
        if due is None:
            execution.execution_complete_if_done(run)
        elif (wait := (due - timezone.now()).total_seconds()) < SOON:
            send_batch.apply_async((execution_pk,), countdown=max(wait, 0.5))


@shared_task(expires=55)
def sweep_and_kick() -> dict:
    """Every minute: settle rows of dead workers, then restart batches that have due work."""
    swept = dispatch.sweep_stale_sending()
    now = timezone.now()
    for run in Execution.objects.filter(status=ExecutionStatus.RUNNING).select_related("campaign"):
        due = dispatch.next_due_at(run)
        if due is None:
            execution.execution_complete_if_done(run)
        elif due <= now and run.campaign.status != CampaignStatus.PAUSED:
            send_batch.delay(run.pk)
    return swept


@shared_task(acks_late=True)
def evaluate_events(organization_pk: int, event_ids: list[str]) -> int:
    """Evaluates the triggers for one accepted batch of events (POST /api/v1/events)."""
    return triggers.triggers_evaluate(organization_id=organization_pk, event_ids=event_ids)


# --- Notify ---------------------------------------------------------------------------------------


@shared_task(acks_late=True)
def fire_notification(notification_pk: int) -> str | None:
    """A Notify slot's clocked beat entry: sends that one notification."""
    from campaigns import notify_services

    return notify_services.notification_fire(notification_pk)


@shared_task(acks_late=True)
def refresh_campaign_embedding(campaign_pk: int) -> int:
    from campaigns import notify

    return notify.campaign_embeddings_refresh(campaign_ids=[campaign_pk])


@shared_task(expires=3300)
def refresh_embeddings() -> dict:
    """Hourly: re-embeds changed campaigns and recomputes contacts' vectors, in batches."""
    from campaigns import notify

    return notify.embeddings_refresh_all()


@shared_task(expires=55)
def refresh_notification_statuses() -> int:
    """Every minute: fired Notify slots take the status of their message (sent, failed, clicked)."""
    from campaigns import notify_services

    return notify_services.notifications_refresh_status()


@shared_task(expires=3600)
def smartengage_daily_run(preset: str = "default") -> list[str]:
    """celery-beat, 09:00 UTC: each organization's SmartEngage segment run, once across workers."""
    from campaigns.smartengage import smartengage_daily

    return [f"{run.correlation_id}:{run.status}" for run in smartengage_daily(preset)]
