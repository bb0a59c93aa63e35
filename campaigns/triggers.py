"""Trigger evaluation (seed 004's TriggerService, sequence diagram 2), set-based over a batch of events.

For each enabled trigger of an active or paused triggered campaign whose
event type occurs in the batch, the checks run in this order, each a single
query over the whole batch, never one per event:

1. campaign paused: recorded and skipped (`campaign_paused`), never queued for later;
2. conditions over event properties (`properties.<key>`) and the contact
   (every segment field: `attributes.<key>`, `consent.<channel>`, bookings,
   events…), with the segments' operators (`conditions_not_met`);
3. membership of the campaign's audiences, when it has any (`not_in_segment`);
4. a send of this campaign still waiting for this contact, e.g. within the
   delay of an earlier event (`already_triggered`): a contact is not stacked
   several identical pending messages;
5. the frequency limit: at most `frequency_limit` triggered decisions per
   contact within `frequency_window_hours` (`frequency_limit`).

A triggered decision is a send at `now + delay`, moved out of the trigger's
quiet hours (contact's timezone for `user_local`, else the fixed one) and the
campaign's send window: deferred, never dropped (DESIGN.md), so the history
row says `triggered` with `deferred_reason`. Each decision writes one
TriggerHistory row; the sends go through the execution engine.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client import Counter as PrometheusCounter

from audiences.models import Event
from audiences.segments import contacts_matching, json_conditions_q
from campaigns import execution, selectors
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignType,
    ExecutionType,
    Trigger,
    TriggerDeferral,
    TriggerHistory,
    TriggerSkipReason,
)
from messaging.models import Message, MessageStatus
from shokti.errors import ApplicationError
from shokti.models import Organization

logger = logging.getLogger(__name__)

EVENT_FIELD_PREFIX = "properties."
PENDING = (MessageStatus.QUEUED, MessageStatus.DEFERRED, MessageStatus.SENDING)

trigger_evaluations = PrometheusCounter(
    "trigger_evaluations_total", "Trigger evaluations by campaign and result.", ["campaign", "result"]
)


def trigger_conditions_q(conditions: list[dict], *, organization_id: int) -> Q:
    """The trigger's conditions as a filter on Event rows; ApplicationError (400) when one is invalid."""
    on_event = [c for c in conditions if str(c.get("field", "")).startswith(EVENT_FIELD_PREFIX)]
    on_contact = [c for c in conditions if c not in on_event]
    q = json_conditions_q("properties", on_event) if on_event else Q()
    if on_contact:
        q &= Q(contact__in=contacts_matching(organization=organization_id, conditions=on_contact).values("pk"))
    return q


def trigger_conditions_validate(conditions: list[dict]) -> None:
    """Raises ApplicationError (400 INVALID_REQUEST, every bad condition located) for invalid trigger conditions."""
    trigger_conditions_q(conditions, organization_id=0)


def triggers_evaluate(*, organization_id: int, event_ids: list[str], now: datetime | None = None) -> int:
    """Evaluates every matching trigger for the organization's events; returns the decisions written.

    Safe to run twice for the same events: decisions already recorded are not
    made again (unique trigger and event), so a redelivered task sends nothing twice.
    """
    real_clock = now is None
    now = now or timezone.now()
    events = list(
        Event.objects.filter(organization_id=organization_id, event_id__in=event_ids, contact__isnull=False)
        .select_related("contact")
        .order_by("occurred_at", "id")
    )
    if not events:
        return 0
    organization = Organization.objects.get(pk=organization_id)
    triggers = list(
        Trigger.objects.filter(
            enabled=True,
            event_type__in={event.event_type for event in events},
            campaign__organization_id=organization_id,
            campaign__campaign_type=CampaignType.TRIGGERED,
            campaign__status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED],
            campaign__deleted_at__isnull=True,
        )
        .select_related("campaign__organization")
        .order_by("id")
    )
    decided = set(
        TriggerHistory.objects.filter(trigger__in=triggers, event_id__in=event_ids).values_list("trigger", "event_id")
    )
    rows: list[TriggerHistory] = []
    sends: dict[int, list[tuple[TriggerHistory, execution.TriggeredSend]]] = {}
    for trigger in triggers:
        batch = [e for e in events if e.event_type == trigger.event_type and (trigger.pk, e.event_id) not in decided]
        for row, send in _decide(trigger, batch, organization, now) if batch else ():
            rows.append(row)
            if send is not None:
                sends.setdefault(trigger.campaign_id, []).append((row, send))

    if real_clock:
        # The decision's time is when it is written, so acceptance-to-decision includes the evaluation itself.
        decided_at = timezone.now()
        for row in rows:
            row.evaluated_at = decided_at
    with transaction.atomic():
        for pairs in sends.values():
            campaign = pairs[0][0].campaign
            runs = execution.execution_start_triggered(campaign, sends=[send for _, send in pairs], now=now)
            for row, send in pairs:
                row.execution = runs.get(send.occurrence_key)
        TriggerHistory.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        runs_due = [
            row.execution_id
            for pairs in sends.values()
            for row, send in pairs
            if row.execution_id and send.send_after <= now + timedelta(seconds=1)
        ]
        transaction.on_commit(lambda: _dispatch_due(runs_due))
    for (campaign_id, result), n in Counter(
        (row.campaign.public_id, row.skip_reason or "triggered") for row in rows
    ).items():
        trigger_evaluations.labels(campaign_id, result).inc(n)
    return len(rows)


def _dispatch_due(execution_pks: list[int]) -> None:
    # Sends due now start at once; later ones are claimed by the engine's periodic kick when due.
    from campaigns.tasks import send_batch

    for pk in execution_pks:
        send_batch.delay(pk)


def _decide(trigger: Trigger, events: list[Event], organization: Organization, now: datetime):
    """Yields (history row, send or None) for each event, in occurrence order."""
    campaign = trigger.campaign

    def row(event: Event, reason: str = "", **fields) -> TriggerHistory:
        return TriggerHistory(
            organization=organization, campaign=campaign, trigger=trigger, contact_id=event.contact_id,
            event_id=event.event_id, event_type=event.event_type, user_id=event.user_id, triggered=not reason,
            skip_reason=reason, event_received_at=event.received_at, evaluated_at=now, **fields,
        )  # fmt: skip

    if campaign.status == CampaignStatus.PAUSED:
        for event in events:
            yield row(event, TriggerSkipReason.CAMPAIGN_PAUSED), None
        return

    met = _meeting_conditions(trigger, events)
    contact_ids = {event.contact_id for event in events if event.pk in met}
    in_segment = _in_audience(campaign, contact_ids)
    waiting = set(
        Message.objects.filter(
            campaign=campaign, execution__execution_type=ExecutionType.TRIGGERED, contact__in=contact_ids,
            status__in=PENDING,
        ).values_list("contact", flat=True)
    )  # fmt: skip
    fired = Counter(
        dict(
            TriggerHistory.objects.filter(
                trigger=trigger, triggered=True, contact__in=contact_ids,
                evaluated_at__gt=now - timedelta(hours=trigger.frequency_window_hours),
            ).values_list("contact").annotate(n=Count("id")).order_by()
        )
    )  # fmt: skip
    for event in events:
        contact = event.contact_id
        if event.pk not in met:
            yield row(event, TriggerSkipReason.CONDITIONS_NOT_MET), None
        elif contact not in in_segment:
            yield row(event, TriggerSkipReason.NOT_IN_SEGMENT), None
        elif contact in waiting:
            yield row(event, TriggerSkipReason.ALREADY_TRIGGERED), None
        elif fired[contact] >= trigger.frequency_limit:
            yield row(event, TriggerSkipReason.FREQUENCY_LIMIT), None
        else:
            fired[contact] += 1
            waiting.add(contact)
            send_at, deferral = send_time(trigger, event, organization, now)
            decision = row(event, scheduled_send_at=send_at, deferred_reason=deferral)
            key = f"trigger:{trigger.pk}:event:{event.pk}"
            yield decision, execution.TriggeredSend(key, event.event_id, event.contact, send_at)


def _meeting_conditions(trigger: Trigger, events: list[Event]) -> set[int]:
    pks = {event.pk for event in events}
    if not trigger.conditions:
        return pks
    try:
        q = trigger_conditions_q(trigger.conditions, organization_id=trigger.campaign.organization_id)
    except ApplicationError as error:
        # Conditions saved before validation existed: no event can meet them.
        logger.warning("Trigger %s has invalid conditions: %s", trigger.public_id, error.message)
        return set()
    return set(Event.objects.filter(pk__in=pks).filter(q).values_list("pk", flat=True))


def _in_audience(campaign: Campaign, contact_ids: set) -> set:
    if not contact_ids or not campaign.audiences.exists():
        return contact_ids
    return set(selectors.audience_contacts(campaign).filter(pk__in=contact_ids).values_list("pk", flat=True))


def send_time(trigger: Trigger, event: Event, organization: Organization, now: datetime) -> tuple[datetime, str]:
    """`now + delay`, moved past the trigger's quiet hours and the campaign's send window; and why it moved."""
    contact_zone = ZoneInfo(event.contact.timezone or organization.timezone)
    quiet_zone = (
        contact_zone if trigger.quiet_hours_timezone == Trigger.USER_LOCAL else ZoneInfo(trigger.quiet_hours_timezone)
    )
    quiet = execution.SendRules(None, None, trigger.quiet_hours_start, trigger.quiet_hours_end, False)
    window = execution.SendRules.of(trigger.campaign, organization)
    due = now + timedelta(days=trigger.delay_days, minutes=trigger.delay_minutes)
    at, reason = due, ""
    # Each rule may push into the other's closed hours; a few rounds settle any real configuration.
    for _ in range(4):
        after_quiet = quiet.next_opening(at, quiet_zone)
        reason = reason or (TriggerDeferral.QUIET_HOURS if after_quiet != at else "")
        after_window = window.next_opening(after_quiet, contact_zone)
        reason = reason or (TriggerDeferral.SEND_WINDOW if after_window != after_quiet else "")
        if after_window == at:
            break
        at = after_window
    return at, reason
