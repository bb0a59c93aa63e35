"""Notify's four operations (seed 002) as services: the views validate, these decide and write."""

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from audiences.models import Contact, ContactEmbedding
from campaigns import execution, notify, notify_schedule
from campaigns.models import (
    Campaign,
    ExecutionType,
    NotificationSchedule,
    NotificationStatus,
    NotifyRequest,
    ScheduledNotification,
)
from messaging.models import Message, MessageStatus
from shokti.errors import ApplicationError, NotFound, utc_timestamp
from shokti.models import Organization

FIRE_TASK = "campaigns.tasks.fire_notification"
PROFILE_LOOKBACK = timedelta(days=90)
# A beat entry that fires this long after its time still sends; later it is dropped as stale.
MAX_FIRING_DELAY = timedelta(hours=2)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user_not_found(user_id: str, where: str = "user embeddings") -> ApplicationError:
    return ApplicationError("USER_NOT_FOUND", f"User {user_id} not found in {where}", status=404)


def _contact(organization: Organization, user_id: str) -> Contact:
    contact = Contact.objects.filter(organization=organization, external_id=user_id).first()
    if contact is None:
        raise user_not_found(user_id)
    return contact


# --- idempotency ---------------------------------------------------------------------------------------


def idempotent(
    organization: Organization, endpoint: str, key: str | None, work: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """Runs `work` once per (organization, endpoint, key); a repeat gets the first answer and writes nothing.

    The answer is stored in the same transaction as what `work` wrote, so two
    concurrent first requests cannot both commit: the loser's unique-key error
    rolls its writes back and it answers with the winner's body.
    """
    if not key:
        return work()
    stored = NotifyRequest.objects.filter(organization=organization, endpoint=endpoint, key=key).first()
    if stored is not None:
        return stored.status_code, stored.body
    try:
        with transaction.atomic():
            status, body = work()
            if status < 400:
                NotifyRequest.objects.create(
                    organization=organization, endpoint=endpoint, key=key, status_code=status,
                    body=json.loads(json.dumps(body)),
                )  # fmt: skip
            return status, body
    except IntegrityError:
        stored = NotifyRequest.objects.get(organization=organization, endpoint=endpoint, key=key)
        return stored.status_code, stored.body


# --- 1. get-recommended-campaigns ----------------------------------------------------------------------


def recommendations_get(
    *,
    organization: Organization,
    user_id: str,
    count: int = 10,
    exclude_campaign_ids: list[str] = (),
    window: tuple[datetime, datetime] | None = None,
) -> dict:
    """Seed 002's top-N answer for one contact, exact over the organization's offered campaigns."""
    started = time.perf_counter()
    row = (
        Contact.objects.filter(organization=organization, external_id=user_id)
        .values_list("pk", "embedding__vector")
        .first()
    )
    if row is None:
        raise user_not_found(user_id)
    contact = Contact(pk=row[0], organization=organization)
    raw = row[1] if row[1] is not None else notify.contact_embedding(contact).vector
    matrix = notify.campaign_matrix(organization.pk)
    if not matrix.pks and matrix.missing:
        raise ApplicationError(
            "CAMPAIGN_EMBEDDINGS_UNAVAILABLE", "Campaign embeddings are not ready yet; retry shortly.", status=503
        )
    picks = notify.recommend(
        matrix, notify.from_bytes(raw), count=count, exclude_public_ids=exclude_campaign_ids,
        exclude_pks=notify.unsubscribed_campaigns(contact), window=window,
    )  # fmt: skip
    recommendations = [
        {
            "rank": pick.rank,
            "campaign_id": matrix.public_ids[pick.row],
            "similarity_score": round(pick.similarity, 4),
            "campaign_name": matrix.names[pick.row],
            "priority": matrix.priorities[pick.row],
            "estimated_ctr": round(float(matrix.ctrs[pick.row]), 4),
            "time_window_start": iso(matrix.starts[pick.row]),
            "time_window_end": iso(matrix.ends[pick.row]),
        }
        for pick in picks
    ]
    return {
        "status": "success",
        "user_id": user_id,
        "recommendations": recommendations,
        "processing_time_ms": round((time.perf_counter() - started) * 1000),
        "timestamp": utc_timestamp(),
    }


# --- 2. user-embedding ---------------------------------------------------------------------------------


def user_embedding_get(*, organization: Organization, user_id: str, embedding_version: str | None = None) -> dict:
    """The contact's stored vector; 503 EMBEDDING_NOT_AVAILABLE until a batch (or a recommendation) computed it."""
    contact = _contact(organization, user_id)
    stored = ContactEmbedding.objects.filter(contact=contact).first()
    if stored is None or (embedding_version and stored.embedding_version != embedding_version):
        wanted = f" (version {embedding_version})" if embedding_version else ""
        raise ApplicationError(
            "EMBEDDING_NOT_AVAILABLE", f"The embedding of user {user_id}{wanted} is not computed yet.", status=503
        )
    vector = notify.from_bytes(stored.vector)
    return {
        "status": "success",
        "user_id": user_id,
        "embedding": [round(float(value), 6) for value in vector],
        "embedding_dimension": len(vector),
        "embedding_version": stored.embedding_version,
        "model_version": stored.model_version,
        "created_at": iso(stored.created_at),
        "last_updated": iso(stored.last_updated),
    }


# --- 3. create-notification-schedule -------------------------------------------------------------------


def contact_profile(contact: Contact, zone: ZoneInfo, now: datetime | None = None):
    """The contact's hourly engagement profile from the last 90 days of opens and clicks (local hours)."""
    since = (now or timezone.now()) - PROFILE_LOOKBACK
    moments = (
        Message.objects.filter(contact=contact)
        .filter(Q(opened_at__gte=since) | Q(clicked_at__gte=since))
        .values_list("opened_at", "clicked_at")
    )
    hours = []
    for opened, clicked in moments:
        if opened:
            hours.append((opened.astimezone(zone).hour, 1.0))
        if clicked:
            hours.append((clicked.astimezone(zone).hour, 2.0))  # a click says more than an open
    return notify_schedule.hourly_profile(hours)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def schedule_create(*, organization: Organization, data: dict) -> dict:
    """Optimises and stores one contact's day; answers seed 002's schedule body."""
    contact = _contact(organization, data["user_id"])
    constraints = data["constraints"]
    zone = ZoneInfo(data.get("timezone") or "UTC")
    requested = data["recommended_campaigns"]
    campaigns = {
        c.public_id: c
        for c in Campaign.objects.alive().filter(
            organization=organization, public_id__in=[r["campaign_id"] for r in requested]
        )
    }
    unknown = [r["campaign_id"] for r in requested if r["campaign_id"] not in campaigns]
    if unknown:
        raise ApplicationError(
            "INVALID_REQUEST", f"Unknown campaign_id: {', '.join(unknown)}",
            details={"errors": [{"loc": ["body", "recommended_campaigns"], "msg": f"Unknown campaign {u}",
                                 "type": "not_found"} for u in unknown]},
        )  # fmt: skip
    candidates = [
        notify_schedule.Candidate(
            key=r["campaign_id"], score=r["similarity_score"],
            priority=r.get("priority") or campaigns[r["campaign_id"]].priority,
            window_start=campaigns[r["campaign_id"]].time_window_start,
            window_end=campaigns[r["campaign_id"]].time_window_end,
        )
        for r in requested
    ]  # fmt: skip
    quiet = constraints.get("quiet_hours") or {}
    preferences = constraints.get("user_preferences") or {}
    rules = notify_schedule.DayRules(
        max_notifications=constraints["max_notifications_per_day"],
        zone=zone,
        quiet_start=_minutes(quiet["start"]) if quiet else None,
        quiet_end=_minutes(quiet["end"]) if quiet else None,
        preferred=tuple(_minutes(t) for t in preferences.get("preferred_times", [])),
        blackout_dates=frozenset(preferences.get("blackout_dates", [])),
        min_gap_minutes=constraints.get("min_gap_minutes", 60),
    )
    day: date = data["schedule_date"]
    try:
        plan = notify_schedule.optimise_day(candidates, rules, day, contact_profile(contact, zone))
    except notify_schedule.SchedulingFailed as error:
        raise ApplicationError(
            "SCHEDULING_FAILED", f"The schedule could not be optimised: {error}", status=500
        ) from error
    ctrs = notify.estimated_ctrs([campaigns[p.candidate.key].pk for p in plan.placements])
    with transaction.atomic():
        schedule = NotificationSchedule.objects.create(
            organization=organization, contact=contact, schedule_date=day, timezone=str(zone),
            constraints=json.loads(json.dumps(constraints, default=str)), optimization_score=plan.score,
        )  # fmt: skip
        ScheduledNotification.objects.bulk_create(
            ScheduledNotification(
                schedule=schedule, sequence=sequence, campaign=campaigns[p.candidate.key], scheduled_time=p.at,
                priority=p.candidate.priority, estimated_ctr=round(ctrs[campaigns[p.candidate.key].pk], 4),
            )
            for sequence, p in enumerate(plan.placements, start=1)
        )  # fmt: skip
    return schedule_body(schedule)


def schedule_body(schedule: NotificationSchedule) -> dict:
    """Seed 002's schedule object, with each notification's current status."""
    notifications_refresh_status(schedule_ids=[schedule.pk])
    notifications = list(schedule.notifications.select_related("campaign").order_by("sequence"))
    return {
        "status": "success",
        "user_id": schedule.contact.external_id,
        "schedule_id": schedule.public_id,
        "schedule_date": schedule.schedule_date.isoformat(),
        "notifications": [
            {
                "sequence": n.sequence,
                "campaign_id": n.campaign.public_id,
                "scheduled_time": iso(n.scheduled_time),
                "priority": n.priority,
                "estimated_ctr": n.estimated_ctr,
                "notification_status": n.status,
                "delivery_time": iso(n.delivery_time),
                "click_time": iso(n.click_time),
            }
            for n in notifications
        ],
        "total_scheduled": len(notifications),
        "optimization_score": schedule.optimization_score,
        "created_at": iso(schedule.created_at),
    }


def schedule_get(*, organization: Organization, schedule_id: str) -> dict:
    schedule = (
        NotificationSchedule.objects.select_related("contact")
        .filter(organization=organization, public_id=schedule_id)
        .first()
    )
    if schedule is None:
        raise NotFound(f"Schedule {schedule_id} not found.")
    return schedule_body(schedule)


# --- 4. create-delivery-schedule -----------------------------------------------------------------------


def entry_name(notification: ScheduledNotification) -> str:
    return f"notify:{notification.schedule.public_id}:seq{notification.sequence}"


def delivery_schedule_create(*, organization: Organization, data: dict) -> dict:
    """Registers each notification as a clocked beat entry that sends it at its time; seed 002's 201 body."""
    schedule = (
        NotificationSchedule.objects.select_related("contact")
        .filter(organization=organization, public_id=data["schedule_id"], contact__external_id=data["user_id"])
        .first()
    )
    if schedule is None:
        raise NotFound(f"Schedule {data['schedule_id']} of user {data['user_id']} not found.")
    zone = ZoneInfo(data["timezone"])
    stored = {n.sequence: n for n in schedule.notifications.select_related("campaign", "schedule")}
    errors = []
    for index, item in enumerate(data["notifications"]):
        found = stored.get(item["sequence"])
        if found is None or found.campaign.public_id != item["campaign_id"]:
            errors.append({"loc": ["body", "notifications", index], "type": "not_found",
                           "msg": f"Notification {item['sequence']} with {item['campaign_id']} is not in the schedule."})  # fmt: skip
    if errors:
        raise ApplicationError("INVALID_REQUEST", errors[0]["msg"], details={"errors": errors})
    rules = []
    with transaction.atomic():
        for item in data["notifications"]:
            notification = stored[item["sequence"]]
            at = item["scheduled_time"]
            at = (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(UTC)
            notification.scheduled_time = at
            notification.channel_type = data["channel"]
            notification.save(update_fields=["scheduled_time", "channel_type"])
            clocked, _ = ClockedSchedule.objects.get_or_create(clocked_time=at)
            PeriodicTask.objects.update_or_create(
                name=entry_name(notification),
                defaults={"task": FIRE_TASK, "args": json.dumps([notification.pk]), "clocked": clocked,
                          "one_off": True, "enabled": True, "expires": at + MAX_FIRING_DELAY,
                          "description": f"Notify {schedule.contact.external_id}: {notification.campaign.name}"[:200]},
            )  # fmt: skip
            rules.append(
                {
                    "rule_name": f"notify-{data['user_id']}-{item['campaign_id']}-seq{item['sequence']}",
                    "state": "ENABLED",
                    "schedule_expression": f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
                }
            )
    return {
        "status": "success",
        "schedule_id": schedule.public_id,
        "eventbridge_rules_created": len(rules),
        "rules": rules,
        "created_at": utc_timestamp(),
    }


def notification_fire(notification_pk: int, *, now: datetime | None = None) -> str | None:
    """Fired by its clocked beat entry: one triggered-style execution for one contact on one channel.

    The occurrence key makes a second firing (two beats, a retried task) a no-op.
    """
    now = now or timezone.now()
    notification = (
        ScheduledNotification.objects.select_related("schedule__contact", "campaign__organization")
        .filter(pk=notification_pk, status=NotificationStatus.PENDING, execution__isnull=True)
        .first()
    )
    if notification is None or notification.scheduled_time > now:
        return None
    if now - notification.scheduled_time > MAX_FIRING_DELAY:
        ScheduledNotification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED)
        return None
    with transaction.atomic():
        run, _ = execution.execution_start(
            notification.campaign, execution_type=ExecutionType.TRIGGERED,
            occurrence_key=f"notify:{notification.schedule.public_id}:{notification.sequence}", actor="system",
            only_contact=notification.schedule.contact, only_channel_type=notification.channel_type or "in_app",
        )  # fmt: skip
        ScheduledNotification.objects.filter(pk=notification.pk).update(execution=run)
    return run.public_id


def notifications_refresh_status(*, schedule_ids: list[int] | None = None) -> int:
    """Moves fired notifications to sent, failed or clicked from their message rows (set-based)."""
    fired = ScheduledNotification.objects.filter(execution__isnull=False).exclude(status=NotificationStatus.CLICKED)
    if schedule_ids is not None:
        fired = fired.filter(schedule__in=schedule_ids)
    messages = Message.objects.filter(execution=OuterRef("execution"))
    clicked = messages.filter(clicked_at__isnull=False)
    changed = fired.filter(Exists(clicked)).update(
        status=NotificationStatus.CLICKED, click_time=Subquery(clicked.values("clicked_at")[:1])
    )
    sent = messages.filter(status__in=notify.SENT_STATUSES)
    changed += (
        fired.filter(status=NotificationStatus.PENDING)
        .filter(Exists(sent))
        .update(status=NotificationStatus.SENT, delivery_time=Subquery(sent.values("sent_at")[:1]))
    )
    failed = messages.filter(status__in=[MessageStatus.FAILED, MessageStatus.BOUNCED, MessageStatus.SKIPPED])
    # A finished execution that wrote no row (no channel of that kind, say) failed too.
    finished_empty = Q(execution__status__in=["completed", "failed", "cancelled"]) & ~Exists(messages)
    changed += (
        fired.filter(status=NotificationStatus.PENDING)
        .filter(Exists(failed) | finished_empty)
        .update(status=NotificationStatus.FAILED)
    )
    return changed
