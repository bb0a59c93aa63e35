"""SmartEngage: re-engagement reminders written by a generator, run by the one execution engine.

Each organization has one SmartEngage campaign (content_source = generator).
A run creates an execution of it; the engine resolves the run's audience
(`smartengage_audience`), applies policy, and dispatches in batches, calling
`smartengage_generate` for each batch so that the generator and the safety
filter write each row's text before it is rendered and sent.

Segmentation (seed 003's T032): customers whose last completed booking is
`booking_cadence_days` old, give or take CADENCE_TOLERANCE_DAYS whole days,
with marketing consent, no SmartEngage message queued or sent in the last 24
hours, and no email suppression: one query on the indexed
(organization, last_booking_at) range with two NOT EXISTS probes.

Runs of an organization's segment (run-segment and the daily job) take a lock
(campaigns.locks) while they resolve, so that two workers or two callers can
never select the same customers twice.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from audiences.models import Booking, Contact, Service, Suppression
from campaigns import locks
from campaigns.dispatch import execution_send_batch
from campaigns.execution import SendRules, execution_complete_if_done, execution_refresh_counts, execution_run
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignType,
    Channel,
    Execution,
    ExecutionStatus,
    ExecutionType,
    SmartEngageRun,
)
from messaging import deeplinks, generation, safety
from messaging.models import Message, MessageStatus, Prompt, SkipReason
from shokti.errors import ApplicationError
from shokti.models import Organization

logger = logging.getLogger(__name__)

AGENT = "smartengage"
ROLE = "CUSTOMER"
CADENCE_TOLERANCE_DAYS = 2
RECENT = timedelta(hours=24)
CAMPAIGN_NAME = "SmartEngage reminders"

DEFAULTS = {"booking_cadence_days": 21, "send_window_start": 9, "send_window_end": 18, "batch_size": 50,
            "promo_code": None}  # fmt: skip
PRESETS = {
    "default": {**DEFAULTS},
    "aggressive": {"booking_cadence_days": 14, "send_window_start": 9, "send_window_end": 20, "batch_size": 100,
                   "promo_code": "COMEBACK15"},
    "gentle": {"booking_cadence_days": 28, "send_window_start": 9, "send_window_end": 18, "batch_size": 25,
               "promo_code": None},
    "weekend": {"booking_cadence_days": 21, "send_window_start": 9, "send_window_end": 18, "batch_size": 50,
                "promo_code": "WEEKEND20"},
}  # fmt: skip

# A row counts toward "a SmartEngage message in the last 24 hours" unless it never went out.
_NOT_SENT = [MessageStatus.SKIPPED, MessageStatus.FAILED, MessageStatus.BOUNCED]
_SENT_LIKE = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED,
              MessageStatus.UNSUBSCRIBED]  # fmt: skip
_PENDING = [MessageStatus.QUEUED, MessageStatus.DEFERRED, MessageStatus.SENDING]


def smartengage_parameters(body: dict) -> dict:
    """Seed 000's parameters: a preset overrides everything else; 400 when the send window is empty."""
    params = {**DEFAULTS, **{key: body[key] for key in DEFAULTS if body.get(key) is not None}}
    if body.get("preset"):
        params = {**PRESETS[body["preset"]], "preset": body["preset"]}
    if params["send_window_start"] >= params["send_window_end"]:
        raise ApplicationError(
            "INVALID_REQUEST", "send_window_start must be before send_window_end.",
            error="Invalid campaign parameters",
            details={"send_window_start": params["send_window_start"], "send_window_end": params["send_window_end"]},
        )  # fmt: skip
    return params


def smartengage_campaign(organization: Organization) -> Campaign:
    """The organization's SmartEngage campaign, created on first use: an always-active generator campaign."""
    campaign = (
        Campaign.objects.alive()
        .filter(organization=organization, content_source=Campaign.ContentSource.GENERATOR)
        .first()
    )
    if campaign is not None:
        return campaign
    with transaction.atomic():
        campaign = Campaign.objects.create(
            organization=organization, name=CAMPAIGN_NAME, campaign_type=CampaignType.TRIGGERED,
            status=CampaignStatus.ACTIVE, content_source=Campaign.ContentSource.GENERATOR, created_by="system",
            description="Re-engagement reminders written by the generator (seeds 000, 001, 003).",
        )  # fmt: skip
        Channel.objects.create(campaign=campaign, channel_type=Channel.Type.EMAIL)
    return campaign


# --- segmentation ---------------------------------------------------------------------------------


def recent_smartengage_messages(now: datetime, *, exclude_execution: int | None = None) -> QuerySet[Message]:
    """SmartEngage rows of OuterRef('pk') queued in the last 24 hours that went or may go out."""
    recent = Message.objects.filter(contact=OuterRef("pk"), agent_type=AGENT, queued_at__gte=now - RECENT).exclude(
        status__in=_NOT_SENT
    )
    return recent.exclude(execution=exclude_execution) if exclude_execution else recent


def eligible_customers(*, organization: int, cadence_days: int, now: datetime | None = None) -> QuerySet[Contact]:
    """Seed 003's T032 segment, as one query (see the module docstring)."""
    now = now or timezone.now()
    # "d days ago" in whole days: d <= age < d + 1; the tolerance widens that on both sides.
    oldest = now - timedelta(days=cadence_days + CADENCE_TOLERANCE_DAYS + 1)
    newest = now - timedelta(days=cadence_days - CADENCE_TOLERANCE_DAYS)
    suppressed = Suppression.objects.filter(
        organization=organization, channel_type="email", address=Lower(OuterRef("email"))
    )
    return (
        Contact.objects.filter(organization=organization, last_booking_at__gt=oldest, last_booking_at__lte=newest)
        .filter(consent__marketing=True)
        .exclude(email="")
        .exclude(Exists(recent_smartengage_messages(now)))
        .exclude(Exists(suppressed))
    )


def smartengage_audience(execution: Execution) -> QuerySet[Contact]:
    """The audience of a SmartEngage run: the listed customers (send-single, send-bulk) or the segment."""
    run = SmartEngageRun.objects.get(execution=execution)
    organization = execution.campaign.organization_id
    if run.params.get("customer_ids") is not None:
        return Contact.objects.filter(organization=organization, pk__in=run.params["customer_ids"])
    return eligible_customers(organization=organization, cadence_days=run.params["booking_cadence_days"])


# --- runs ------------------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    run: SmartEngageRun
    preview: list[dict] | None = None  # dry runs: the texts that would be sent
    total_eligible: int = 0  # dry runs: who would be selected


def _lock_name(organization: Organization) -> str:
    return f"smartengage:segment:{organization.pk}"


def smartengage_run_segment(
    *, organization: Organization, params: dict, correlation_id: str, kind: str = SmartEngageRun.Kind.SEGMENT,
    dry_run: bool = False,
) -> RunOutcome:  # fmt: skip
    """Starts a segment run: resolves under the organization's lock, then queues dispatch on the workers.

    A run that finds the lock held is recorded SKIPPED_LOCKED (the daily job) or
    refused with 409 (an API caller, whose request then changes nothing).
    """
    from campaigns.tasks import DISPATCH_CHAINS, kick

    params = {**params, "ttl_hours": params.get("ttl_hours", 48), "message_type": "REMINDER"}
    if dry_run:
        total, preview = _dry_run_preview(organization, params)
        run = SmartEngageRun(organization=organization, correlation_id=correlation_id, kind=kind, params=params,
                             started_at=timezone.now(), finished_at=timezone.now())  # fmt: skip
        return RunOutcome(run=run, preview=preview, total_eligible=total)
    with locks.try_exclusive(_lock_name(organization)) as held:
        if not held:
            if kind != SmartEngageRun.Kind.DAILY:
                raise ApplicationError("RUN_IN_PROGRESS", "Another SmartEngage run of this organization is resolving; "
                                       "try again shortly.", status=409, error="Conflict")  # fmt: skip
            run = SmartEngageRun.objects.create(organization=organization, correlation_id=correlation_id, kind=kind,
                                                params=params, status=SmartEngageRun.Status.SKIPPED_LOCKED,
                                                finished_at=timezone.now())  # fmt: skip
            logger.info("SmartEngage %s run skipped: the lock is held", kind)
            return RunOutcome(run=run)
        rules = SendRules(params["send_window_start"], params["send_window_end"], organization.quiet_hours_start,
                          organization.quiet_hours_end, False)  # fmt: skip
        run = _run(organization, params, correlation_id, kind, rules=rules)
    transaction.on_commit(lambda: kick(run.execution_id, chains=DISPATCH_CHAINS))
    return RunOutcome(run=run)


def smartengage_send(
    *, organization: Organization, customer_ids: list, params: dict, correlation_id: str, kind: str,
    bypass_frequency_caps: bool,
) -> SmartEngageRun:  # fmt: skip
    """An operator's send to listed customers, dispatched within the call.

    Consent and unsubscribes always hold; SmartEngage's 24-hour cap holds unless
    bypassed, and the organization's own cap never applies (API.md). The rows
    count toward later caps like any other.
    """
    run = _run(organization, {**params, "customer_ids": [str(pk) for pk in customer_ids]}, correlation_id, kind,
               rules=SendRules(None, None, None, None, False), bypass_frequency_caps=bypass_frequency_caps)  # fmt: skip
    execution = run.execution
    while execution_send_batch(execution).claimed:
        pass
    execution_complete_if_done(execution)
    return run


def _run(organization, params, correlation_id, kind, *, rules: SendRules, bypass_frequency_caps=False):
    campaign = smartengage_campaign(organization)
    run = SmartEngageRun.objects.create(organization=organization, correlation_id=correlation_id, kind=kind,
                                        params=params)  # fmt: skip
    execution = Execution.objects.create(
        campaign=campaign, execution_type=ExecutionType.TRIGGERED, occurrence_key=f"smartengage:{run.pk}",
        trigger_event_id=correlation_id, correlation_id=correlation_id,
    )  # fmt: skip
    SmartEngageRun.objects.filter(pk=run.pk).update(execution=execution)
    run.execution = execution
    try:
        execution_run(execution, frequency_cap=False, rules=rules)
        now = timezone.now()
        if not bypass_frequency_caps:
            recent = Contact.objects.filter(Exists(recent_smartengage_messages(now, exclude_execution=execution.pk)))
            Message.objects.filter(execution=execution, status=MessageStatus.QUEUED, contact__in=recent).update(
                status=MessageStatus.SKIPPED, skip_reason=SkipReason.FREQUENCY_CAP
            )
        Message.objects.filter(execution=execution).update(
            role=ROLE, agent_type=AGENT, message_type=params.get("message_type", "REMINDER"),
            locale=Subquery(Contact.objects.filter(pk=OuterRef("contact_id")).values("locale")[:1]),
        )  # fmt: skip
        execution_refresh_counts(execution)
    except Exception as error:
        SmartEngageRun.objects.filter(pk=run.pk).update(status=SmartEngageRun.Status.FAILED, error=str(error)[:2000],
                                                        finished_at=timezone.now())  # fmt: skip
        Execution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.FAILED, completed_at=timezone.now())
        raise
    return run


def smartengage_wait(run: SmartEngageRun, seconds: float) -> bool:
    """Waits up to `seconds` for the run's execution to finish; True when it has."""
    deadline = time.monotonic() + seconds
    while True:
        status = Execution.objects.filter(pk=run.execution_id).values_list("status", flat=True).first()
        if status in {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, None}:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))


# --- results ---------------------------------------------------------------------------------------


def run_counts(execution_ids: list[int]) -> dict[int, dict]:
    """{execution pk: {total_eligible, sent, failed, skipped, pending}} from one grouped query."""
    counts: dict[int, dict] = {pk: {"total_eligible": 0, "sent": 0, "failed": 0, "skipped": 0, "pending": 0}
                               for pk in execution_ids}  # fmt: skip
    rows = Message.objects.filter(execution__in=execution_ids).values("execution", "status").annotate(n=Count("id"))
    for row in rows:
        bucket = counts[row["execution"]]
        bucket["total_eligible"] += row["n"]
        status = row["status"]
        key = "sent" if status in _SENT_LIKE else "skipped" if status == MessageStatus.SKIPPED else (
            "pending" if status in _PENDING else "failed")  # fmt: skip
        bucket[key] += row["n"]
    return counts


def run_status(run: SmartEngageRun) -> str:
    """RUNNING, DONE, FAILED or SKIPPED_LOCKED: stored for the last two, the execution's state otherwise."""
    if run.status != SmartEngageRun.Status.RUNNING or run.execution is None:
        return run.status
    return {ExecutionStatus.COMPLETED: SmartEngageRun.Status.DONE, ExecutionStatus.FAILED: SmartEngageRun.Status.FAILED,
            ExecutionStatus.CANCELLED: SmartEngageRun.Status.FAILED}.get(run.execution.status,
                                                                         SmartEngageRun.Status.RUNNING)  # fmt: skip


def run_finished_at(run: SmartEngageRun) -> datetime | None:
    return run.finished_at or (run.execution.completed_at if run.execution else None)


def campaign_result(run: SmartEngageRun, *, with_results: bool = True) -> dict:
    """Seed 000's campaign_result (with seed 001's started_at, finished_at and results)."""
    counts = run_counts([run.execution_id])[run.execution_id] if run.execution_id else {}
    finished = run_finished_at(run)
    result = {key: counts.get(key, 0) for key in ("total_eligible", "sent", "failed", "skipped")}
    result["duration_seconds"] = round(((finished or timezone.now()) - run.started_at).total_seconds(), 3)
    result["started_at"], result["finished_at"] = run.started_at, finished
    if with_results and run.execution_id:
        rows = Message.objects.filter(execution=run.execution_id).order_by("id")
        result["results"] = [message_result(message) for message in rows[:1000]]
    return result


def message_result(message: Message) -> dict:
    """One customer's line in `results`."""
    line = {"customer_id": str(message.contact_id), "success": message.status in _SENT_LIKE,
            "message_id": message.public_id}  # fmt: skip
    if message.status == MessageStatus.SKIPPED:
        line["skipped"] = message.skip_reason
    elif message.status not in _SENT_LIKE:
        line["error"] = message.error_message or message.status
    return line


# --- generation: the dispatcher's hook -------------------------------------------------------------


def _booking_stats(contact_ids: list) -> dict:
    """{contact pk: (completed bookings, last booked service pk)} in one query."""
    stats: dict = {}
    rows = (
        Booking.objects.filter(contact__in=contact_ids, status=Booking.Status.COMPLETED)
        .order_by("contact", "finished_at")
        .values_list("contact", "service")
    )
    for contact_pk, service_pk in rows:
        count, _ = stats.get(contact_pk, (0, None))
        stats[contact_pk] = (count + 1, service_pk)
    return stats


def _requests(pairs: list[tuple[Contact, int | None]], organization: int, params: dict, now: datetime):
    stats = _booking_stats([contact.pk for contact, _ in pairs])
    services = {str(service.pk): service for service in Service.objects.filter(organization=organization)}
    requests = []
    for contact, message_pk in pairs:
        bookings, last_service = stats.get(contact.pk, (0, None))
        service = services.get(str(params.get("service_id") or last_service))
        locale = contact.locale or "bn"
        name = service.name if service else "service"
        if service and not locale.lower().startswith("en"):
            name = service.name_bn or service.name
        days = (now - contact.last_booking_at).days if contact.last_booking_at else None
        link = deeplinks.booking_url(customer_id=contact.pk, service_id=service.pk if service else None,
                                     promo_code=params.get("promo_code"), ttl_hours=params.get("ttl_hours", 48),
                                     message_pk=message_pk)  # fmt: skip
        requests.append(generation.GenerationRequest(
            key=message_pk or 0, locale=locale,
            customer_name=contact.first_name or contact.full_name or contact.email.partition("@")[0],
            service_name=name, days_since=days, bookings=bookings, promo_code=params.get("promo_code"),
            deep_link=link, message_type=params.get("message_type", "REMINDER"),
        ))  # fmt: skip
    return requests


def _write_safely(requests, contacts: list[Contact], channel: str) -> list[tuple[generation.Generated, dict]]:
    """Generates the batch's texts and passes each through the safety filter; failures fall back."""
    prompt = Prompt.objects.filter(agent_type=AGENT, is_active=True).order_by("-version").first()
    generated = generation.generate_batch(requests, prompt)
    others = frozenset(value for contact in contacts for value in (contact.first_name, contact.email) if value)
    moderated = bool(generation.ai_configured() and settings.OPENAI_MODERATION)
    written = []
    for request, contact, text in zip(requests, contacts, generated, strict=True):
        context = safety.SafetyContext(
            locale=request.language, channel=channel, deep_link=request.deep_link, promo_code=request.promo_code,
            customer_email=contact.email, customer_name=request.customer_name,
            other_customers=others - {contact.first_name, contact.email},
        )  # fmt: skip
        if request.deep_link not in text.text:
            # The one link a reminder must carry; a model that left it out still gets it, on its own line.
            text.text = f"{text.text}\n\n{request.deep_link}"
        reasons = safety.check(text.subject, text.text, context, flagged=text.flagged)
        final = text
        if reasons:
            final = generation.offline(request)
            final.seconds = text.seconds
        checks = safety.record(reasons, moderated=moderated, fallback=bool(reasons or text.error), error=text.error)
        written.append((final, checks))
    return written


def smartengage_generate(execution: Execution, messages: list[Message]) -> None:
    """Writes the text of the batch's rows that have none yet (a retried row keeps the text it had)."""
    todo = [message for message in messages if not message.generated_text]
    if not todo:
        return
    run = SmartEngageRun.objects.filter(execution=execution).first()
    params = run.params if run else {}
    requests = _requests([(m.contact, m.pk) for m in todo], execution.campaign.organization_id, params, timezone.now())
    for message, (text, checks) in zip(todo, _write_safely(requests, [m.contact for m in todo], "email"), strict=True):
        message.generated_subject, message.generated_text = text.subject, text.text
        message.model, message.prompt_version = text.model, text.prompt_version
        message.safety_checks, message.generation_seconds = checks, text.seconds
    Message.objects.bulk_update(todo, ["generated_subject", "generated_text", "model", "prompt_version",
                                       "safety_checks", "generation_seconds"])  # fmt: skip


def _dry_run_preview(organization: Organization, params: dict, sample: int = 5) -> tuple[int, list[dict]]:
    """How many the run would select, and the texts of the first `sample` of them; nothing is written."""
    audience = eligible_customers(organization=organization.pk, cadence_days=params["booking_cadence_days"])
    contacts = list(audience.order_by("pk")[:sample])
    requests = _requests([(contact, None) for contact in contacts], organization.pk, params, timezone.now())
    return audience.count(), [
        {"customer_id": str(contact.pk), "subject": text.subject, "text": text.text, "model": text.model,
         "safety_checks": checks}
        for contact, (text, checks) in zip(contacts, _write_safely(requests, contacts, "email"), strict=True)
    ]  # fmt: skip


def smartengage_daily(preset: str = "default") -> list[SmartEngageRun]:
    """The daily job: a segment run for every organization with an active SmartEngage campaign."""
    from shokti import correlation

    runs = []
    organizations = Organization.objects.filter(
        Q(campaigns__content_source=Campaign.ContentSource.GENERATOR, campaigns__status=CampaignStatus.ACTIVE,
          campaigns__deleted_at__isnull=True)
    ).distinct()  # fmt: skip
    for organization in organizations:
        outcome = smartengage_run_segment(organization=organization, params=smartengage_parameters({"preset": preset}),
                                          correlation_id=correlation.get_or_new(), kind=SmartEngageRun.Kind.DAILY)  # fmt: skip
        runs.append(outcome.run)
    return runs
