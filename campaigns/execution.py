"""The execution engine: start, resolve, apply policy, complete (DESIGN.md, "The execution engine").

Resolution writes one Message row per recipient with INSERT … SELECT in
chunks of contacts, in the database: holdout and variant come from a stable
hash of (campaign, contact), the channel from the first enabled channel (by
priority) for which the contact has an address. Policy then marks rows
skipped or deferred with a handful of set-based UPDATEs. Nothing here holds
the audience in Python memory.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from audiences.models import Contact, Suppression
from audiences.segments import contacts_matching, segment_contacts
from campaigns import lifecycle
from campaigns.assignment import BUCKETS
from campaigns.models import Campaign, Channel, ChannelType, Execution, ExecutionStatus, ExecutionType, SegmentType
from messaging.models import Message, MessageStatus, SkipReason
from shokti import correlation

logger = logging.getLogger(__name__)

RESOLVE_CHUNK = 50_000

# The consent key each channel needs besides `marketing` (API.md: consent.<channel> not false).
CONSENT_KEY = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "in_app": "push", "webhook": None}
ADDRESS_COLUMN = {
    "email": "email",
    "sms": "phone",
    "whatsapp": "phone",
    "in_app": "external_id",
    "webhook": "external_id",
}


def _bucket_sql(salt_param: str) -> str:
    if connection.vendor == "postgresql":
        return f"(('x' || substr(md5({salt_param} || c.id::text), 1, 8))::bit(32)::bigint %% {BUCKETS})"
    return f"shokti_bucket({salt_param}, c.id)"


# --- start --------------------------------------------------------------------------------------


def execution_start(
    campaign: Campaign, *, execution_type: str, occurrence_key: str, actor: str, trigger_event_id: str = ""
) -> tuple[Execution, bool]:
    """Creates the execution of one occurrence and queues its run; a repeat finds the existing one.

    The unique (campaign, occurrence_key) makes a second beat firing, a retried
    task or a double click a no-op.
    """
    from campaigns.tasks import run_execution

    with transaction.atomic():
        execution, created = Execution.objects.get_or_create(
            campaign=campaign,
            occurrence_key=occurrence_key,
            defaults={"execution_type": execution_type, "trigger_event_id": trigger_event_id,
                      "correlation_id": correlation.get_or_new()},
        )  # fmt: skip
        if created and execution_type != ExecutionType.TRIGGERED:
            lifecycle.campaign_start(campaign, actor=actor, execution_id=execution.public_id)
        if created:
            transaction.on_commit(lambda: run_execution.delay(execution.pk))
    return execution, created


# --- resolve --------------------------------------------------------------------------------------


def audience_contacts(campaign: Campaign) -> QuerySet[Contact]:
    """Include segments minus exclude segments, as one lazy queryset."""
    include, exclude = Q(pk__in=[]), Q(pk__in=[])
    for audience in campaign.audiences.select_related("segment"):
        contacts = (
            segment_contacts(audience.segment)
            if audience.segment_id
            else contacts_matching(organization=campaign.organization_id, conditions=audience.segment_query)
        )
        if audience.segment_type == SegmentType.INCLUDE:
            include |= Q(pk__in=contacts.values("pk"))
        else:
            exclude |= Q(pk__in=contacts.values("pk"))
    return Contact.objects.filter(organization=campaign.organization_id).filter(include).exclude(exclude)


@dataclass
class _Plan:
    """The SQL pieces that turn a contact row into a message row."""

    select: str
    params: list


def _channel_chain(campaign: Campaign) -> dict[int | None, list[Channel]]:
    channels = [c for c in campaign.channels.all() if c.enabled]
    shared = sorted((c for c in channels if c.variant_id is None), key=lambda c: (c.priority, c.id))
    chains: dict[int | None, list[Channel]] = {None: shared}
    for variant in campaign.variants.all():
        own = sorted((c for c in channels if c.variant_id == variant.pk), key=lambda c: (c.priority, c.id))
        chains[variant.pk] = own or shared
    return chains


def _plan(campaign: Campaign, execution: Execution, now: datetime) -> _Plan:
    variants = list(campaign.variants.order_by("id"))
    winner = campaign.winner_variant_id
    # SQLite needs the WHERE in INSERT … SELECT … ON CONFLICT, so the outer SELECT has one.
    # Variant by cumulative allocation; once a winner is declared everyone left gets it.
    if winner:
        variant_sql = str(int(winner))
    elif variants:
        cases, cumulative = [], 0
        for variant in variants:
            cumulative += round(float(variant.allocation_percentage) * 100)
            cases.append(f"WHEN vb < {cumulative} THEN {variant.pk}")
        variant_sql = f"CASE {' '.join(cases)} ELSE {variants[-1].pk} END"
    else:
        variant_sql = "CAST(NULL AS BIGINT)"

    chains = _channel_chain(campaign)
    channel_cases = []
    for variant_pk, chain in chains.items():
        guard = "variant_id IS NULL" if variant_pk is None else f"variant_id = {variant_pk}"
        for channel in chain:
            column = ADDRESS_COLUMN[channel.channel_type]
            channel_cases.append(f"WHEN {guard} AND {column} <> '' THEN {channel.pk}")
    channel_sql = f"CASE {' '.join(channel_cases)} ELSE NULL END" if channel_cases else "CAST(NULL AS BIGINT)"

    by_id = {c.pk: c for chain in chains.values() for c in chain}
    type_cases = " ".join(f"WHEN {pk} THEN '{c.channel_type}'" for pk, c in by_id.items())
    address_cases = " ".join(f"WHEN {pk} THEN {ADDRESS_COLUMN[c.channel_type]}" for pk, c in by_id.items())
    first = next((chain[0].channel_type for chain in chains.values() if chain), ChannelType.EMAIL)
    control = [v.pk for v in variants if v.is_control and not winner]
    control_sql = f"variant_id IN ({', '.join(map(str, control))})" if control else "1 = 0"

    holdout_bp = round(float(campaign.holdout_percentage) * 100)
    status_sql = (
        f"CASE WHEN hb < {holdout_bp} OR {control_sql} OR channel_id IS NULL "
        f"THEN '{MessageStatus.SKIPPED}' ELSE '{MessageStatus.QUEUED}' END"
    )
    reason_sql = (
        f"CASE WHEN hb < {holdout_bp} THEN '{SkipReason.HOLDOUT}' WHEN {control_sql} THEN '{SkipReason.CONTROL}' "
        f"WHEN channel_id IS NULL THEN '{SkipReason.NO_ADDRESS}' ELSE '' END"
    )
    select = f"""
        SELECT %s, %s, %s, variant_id, channel_id, id,
               {f"CASE channel_id {type_cases} ELSE '{first}' END" if type_cases else f"'{first}'"},
               {f"COALESCE(CASE channel_id {address_cases} END, '')" if address_cases else "''"},
               {status_sql}, {reason_sql}, {"CASE WHEN hb < %s THEN %s ELSE %s END"},
               0, %s, '{{}}', '', '', '', %s
        FROM (
            SELECT id, email, phone, external_id, hb, variant_id, {channel_sql} AS channel_id
            FROM (
                SELECT id, email, phone, external_id, hb, {variant_sql} AS variant_id
                FROM (
                    SELECT c.id, c.email, c.phone, c.external_id,
                           {_bucket_sql("%s")} AS hb, {_bucket_sql("%s")} AS vb
                    FROM audiences_contact c
                    WHERE c.id IN ({{audience}}) AND c.id > %s AND c.id <= %s
                ) hashed
            ) assigned
        ) routed
        WHERE 1 = 1
    """  # noqa: S608 (only integers and our own column names are interpolated)
    params = [
        campaign.organization_id, campaign.pk, execution.pk,
        holdout_bp, True, False,
        now, execution.correlation_id,
        f"{campaign.public_id}:holdout", f"{campaign.public_id}:variant",
    ]  # fmt: skip
    return _Plan(select=select, params=params)


INSERT_COLUMNS = (
    "organization_id, campaign_id, execution_id, variant_id, channel_id, contact_id, channel_type, "
    "recipient_address, status, skip_reason, is_holdout, attempts, queued_at, metadata, error_message, "
    "bounce_type, provider_message_id, correlation_id"
)


def execution_resolve(execution: Execution) -> int:
    """Writes the execution's message rows, chunk by chunk; safe to re-run after a crash."""
    campaign = execution.campaign
    now = timezone.now()
    plan = _plan(campaign, execution, now)
    if campaign.content_source == Campaign.ContentSource.GENERATOR:
        # SmartEngage's audience comes from each run's cadence, not from saved segments.
        from campaigns.smartengage import smartengage_audience

        audience = smartengage_audience(execution)
    else:
        audience = audience_contacts(campaign)
    audience_sql, audience_params = audience.values("pk").query.sql_with_params()
    pk_field = Contact._meta.pk
    insert = (
        f"INSERT INTO messaging_message ({INSERT_COLUMNS}) {plan.select.replace('{audience}', audience_sql)} "
        "ON CONFLICT DO NOTHING"
    )
    boundary_sql = (
        f"SELECT c.id FROM audiences_contact c WHERE c.id IN ({audience_sql}) AND c.id > %s "  # noqa: S608
        "ORDER BY c.id LIMIT 1 OFFSET %s"
    )
    last = pk_field.get_db_prep_value(uuid.UUID(int=0), connection)
    highest = pk_field.get_db_prep_value(uuid.UUID(int=2**128 - 1), connection)
    written = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(boundary_sql, [*audience_params, last, RESOLVE_CHUNK - 1])
            row = cursor.fetchone()
            upper = row[0] if row else highest
            with transaction.atomic():
                cursor.execute(insert, [*plan.params, *audience_params, last, upper])
                written += max(cursor.rowcount, 0)
            if row is None:
                break
            last = upper
    return written


# --- policy ----------------------------------------------------------------------------------------


def _queued(execution: Execution) -> QuerySet[Message]:
    return Message.objects.filter(execution=execution, status=MessageStatus.QUEUED)


def _skip(queryset: QuerySet[Message], reason: str) -> int:
    return queryset.update(status=MessageStatus.SKIPPED, skip_reason=reason)


def execution_apply_policy(
    execution: Execution, *, now: datetime | None = None, frequency_cap: bool = True, rules: "SendRules | None" = None
) -> None:
    """Marks queued rows skipped (consent, suppression, frequency cap) or deferred (send window, quiet hours).

    An operator's explicit send passes `frequency_cap=False`, and `rules` when
    its send window is its own rather than the campaign's.
    """
    now = now or timezone.now()
    campaign, organization = execution.campaign, execution.campaign.organization
    channel_types = list(_queued(execution).values_list("channel_type", flat=True).distinct())
    for channel_type in channel_types:
        refused = ~Q(consent__marketing=True)
        if key := CONSENT_KEY.get(channel_type):
            refused |= Q(**{f"consent__{key}": False})
        without_consent = Contact.objects.filter(organization=organization).filter(refused).values("pk")
        _skip(_queued(execution).filter(channel_type=channel_type, contact__in=without_consent), SkipReason.NO_CONSENT)

    suppressed = Suppression.objects.filter(
        organization=organization, channel_type=OuterRef("channel_type"), address=Lower(OuterRef("recipient_address"))
    )
    _skip(_queued(execution).filter(Exists(suppressed)), SkipReason.SUPPRESSED)

    if organization.frequency_cap_messages and frequency_cap:
        since = now - timedelta(hours=organization.frequency_cap_hours)
        capped = (
            Message.objects.filter(organization=organization, sent_at__gte=since)
            .values("contact")
            .annotate(sent=Count("id"))
            .filter(sent__gte=organization.frequency_cap_messages)
            .values("contact")
        )
        _skip(_queued(execution).filter(contact__in=capped), SkipReason.FREQUENCY_CAP)

    _defer_outside_window(execution, rules or SendRules.of(campaign, organization), organization, now)


def _defer_outside_window(execution: Execution, rules: "SendRules", organization, now: datetime) -> None:
    """One UPDATE per distinct contact timezone: rows outside their local window wait for its opening."""
    if not rules.restricts():
        return
    zones = _queued(execution).values_list("contact__timezone", flat=True).distinct().order_by()
    for zone in list(zones):
        opening = rules.next_opening(now, ZoneInfo(zone or organization.timezone))
        if opening > now:
            _queued(execution).filter(contact__timezone=zone).update(status=MessageStatus.DEFERRED, send_after=opening)


@dataclass(frozen=True)
class SendRules:
    """When a contact may receive this campaign, in the contact's local time."""

    window_start: int | None
    window_end: int | None
    quiet_start: int | None
    quiet_end: int | None
    weekdays_only: bool

    @classmethod
    def of(cls, campaign: Campaign, organization) -> "SendRules":
        return cls(campaign.send_window_start, campaign.send_window_end, organization.quiet_hours_start,
                   organization.quiet_hours_end, campaign.exclude_weekends)  # fmt: skip

    def restricts(self) -> bool:
        return self.window_start is not None or self.quiet_start is not None or self.weekdays_only

    @staticmethod
    def _within(hour: int, start: int | None, end: int | None) -> bool:
        if start is None or end is None:
            return True
        # A range like 22-6 wraps past midnight.
        return start <= hour < end if start < end else hour >= start or hour < end

    def allows(self, local: datetime) -> bool:
        if self.weekdays_only and local.isoweekday() >= 6:
            return False
        if not self._within(local.hour, self.window_start, self.window_end):
            return False
        return not (self.quiet_start is not None and self._within(local.hour, self.quiet_start, self.quiet_end))

    def next_opening(self, now: datetime, zone: ZoneInfo) -> datetime:
        """`now` when allowed, else the start of the next allowed local hour (within a week)."""
        local = now.astimezone(zone)
        if self.allows(local):
            return now
        candidate = local.replace(minute=0, second=0, microsecond=0)
        for _ in range(24 * 8):
            candidate += timedelta(hours=1)
            # Re-normalise each step so daylight-saving changes land on real local hours.
            candidate = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)
            if self.allows(candidate):
                return candidate.astimezone(ZoneInfo("UTC"))
        return now


# --- counting and completion ----------------------------------------------------------------------------


def execution_refresh_counts(execution: Execution) -> Execution:
    """Recounts the execution's progress from its rows (one grouped query, not per message)."""
    rows = Message.objects.filter(execution=execution).values("status", "is_holdout").annotate(n=Count("id"))
    counts: dict[str, int] = {}
    holdout = 0
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
        holdout += row["n"] if row["is_holdout"] else 0
    delivered_like = {MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED}
    sent_like = {MessageStatus.SENT, *delivered_like, MessageStatus.UNSUBSCRIBED}
    execution.total_audience_size = sum(counts.values())
    execution.holdout_size = holdout
    execution.messages_queued = sum(
        counts.get(s, 0) for s in (MessageStatus.QUEUED, MessageStatus.DEFERRED, MessageStatus.SENDING)
    )
    execution.messages_sent = sum(counts.get(s, 0) for s in sent_like)
    execution.messages_delivered = sum(counts.get(s, 0) for s in delivered_like)
    execution.messages_failed = counts.get(MessageStatus.FAILED, 0) + counts.get(MessageStatus.BOUNCED, 0)
    execution.save(update_fields=["total_audience_size", "holdout_size", "messages_queued", "messages_sent",
                                  "messages_delivered", "messages_failed", "updated_at"])  # fmt: skip
    return execution


def execution_complete_if_done(execution: Execution) -> bool:
    """Completes a running execution with nothing left to send, and finishes its campaign's run."""
    pending = Message.objects.filter(
        execution=execution, status__in=[MessageStatus.QUEUED, MessageStatus.DEFERRED, MessageStatus.SENDING]
    ).exists()
    if pending:
        return False
    with transaction.atomic():
        changed = Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING).update(
            status=ExecutionStatus.COMPLETED, completed_at=timezone.now()
        )
        if not changed:
            return False
        execution.refresh_from_db()
        execution = execution_refresh_counts(execution)
        campaign = execution.campaign
        if execution.execution_type != ExecutionType.TRIGGERED and campaign.status == Campaign.Status.RUNNING:
            others_running = campaign.executions.exclude(pk=execution.pk).filter(
                status__in=[ExecutionStatus.PENDING, ExecutionStatus.RUNNING]
            )
            if not others_running.exists():
                lifecycle.campaign_finish(
                    campaign, actor="system", execution_id=execution.public_id,
                    sent=execution.messages_sent, delivered=execution.messages_delivered,
                )  # fmt: skip
    logger.info("Execution %s completed: %s sent", execution.public_id, execution.messages_sent)
    return True


def execution_run(execution: Execution, **policy) -> bool:
    """Resolves and applies policy (`policy`: execution_apply_policy's options) once; False when already run."""
    claimed = Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(
        status=ExecutionStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return False
    execution.refresh_from_db()
    started = timezone.now()
    written = execution_resolve(execution)
    execution_apply_policy(execution, **policy)
    execution_refresh_counts(execution)
    logger.info(
        "Execution %s resolved %d rows in %.2fs",
        execution.public_id,
        written,
        (timezone.now() - started).total_seconds(),
    )
    return True
