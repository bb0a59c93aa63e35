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
from campaigns import assignment, lifecycle
from campaigns.assignment import BUCKETS
from campaigns.events import execution_resolved
from campaigns.models import Campaign, Channel, ChannelType, Execution, ExecutionStatus, ExecutionType
from campaigns.selectors import audience_contacts
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
    campaign: Campaign,
    *,
    execution_type: str,
    occurrence_key: str,
    actor: str,
    trigger_event_id: str = "",
    only_contact: Contact | None = None,
    only_channel_type: str = "",
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
                      "correlation_id": correlation.get_or_new(), "only_contact": only_contact,
                      "only_channel_type": only_channel_type},
        )  # fmt: skip
        if created and execution_type != ExecutionType.TRIGGERED:
            lifecycle.campaign_start(campaign, actor=actor, execution_id=execution.public_id)
        if created:
            transaction.on_commit(lambda: run_execution.delay(execution.pk))
    return execution, created


# --- resolve --------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """The SQL pieces that turn a contact row into a message row."""

    select: str
    params: list


def _channel_chain(campaign: Campaign, only_type: str = "") -> dict[int | None, list[Channel]]:
    channels = [c for c in campaign.channels.all() if c.enabled and c.channel_type == (only_type or c.channel_type)]
    shared = sorted((c for c in channels if c.variant_id is None), key=lambda c: (c.priority, c.id))
    chains: dict[int | None, list[Channel]] = {None: shared}
    for variant in campaign.variants.all():
        own = sorted((c for c in channels if c.variant_id == variant.pk), key=lambda c: (c.priority, c.id))
        chains[variant.pk] = own or shared
    return chains


def _plan(campaign: Campaign, execution: Execution, now: datetime) -> _Plan:
    variants = list(campaign.variants.order_by("id"))
    winner = campaign.winner_variant_id
    # PostgreSQL would inline each subquery's expressions into every CASE that reads them,
    # hashing a contact a dozen times; OFFSET 0 keeps each computed once per row.
    fence = "OFFSET 0" if connection.vendor == "postgresql" else ""
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

    chains = _channel_chain(campaign, execution.only_channel_type)
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
                    FROM ({{audience}}) c
                    WHERE c.id > %s AND c.id <= %s {fence}
                ) hashed {fence}
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
    if execution.only_contact_id:
        audience = Contact.objects.filter(pk=execution.only_contact_id)
    elif campaign.content_source == Campaign.ContentSource.GENERATOR:
        # SmartEngage's audience comes from each run's cadence, not from saved segments.
        from campaigns.smartengage import smartengage_audience

        audience = smartengage_audience(execution)
    else:
        audience = audience_contacts(campaign)
    audience_sql, audience_params = audience.values("id", "email", "phone", "external_id").query.sql_with_params()
    pk_field = Contact._meta.pk
    insert = (
        f"INSERT INTO messaging_message ({INSERT_COLUMNS}) {plan.select.replace('{audience}', audience_sql)} "
        "ON CONFLICT DO NOTHING"
    )
    boundary_sql = f"SELECT c.id FROM ({audience_sql}) c WHERE c.id > %s ORDER BY c.id LIMIT 1 OFFSET %s"  # noqa: S608
    last = pk_field.get_db_prep_value(uuid.UUID(int=0), connection)
    highest = pk_field.get_db_prep_value(uuid.UUID(int=2**128 - 1), connection)
    written = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(boundary_sql, [*audience_params, last, RESOLVE_CHUNK - 1])
            row = cursor.fetchone()
            upper = row[0] if row else highest
            with transaction.atomic():
                # The audience's parameters come after the salts: the subquery sits inside the hashed select.
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
    messages_skip_by_policy(_queued(execution), organization=organization, now=now, frequency_cap=frequency_cap)
    _defer_outside_window(execution, rules or SendRules.of(campaign, organization), organization, now)


def messages_skip_by_policy(
    queued: QuerySet[Message], *, organization, now: datetime, frequency_cap: bool = True
) -> None:
    """Marks rows of `queued` (a queryset of queued rows) skipped for consent, suppression or the frequency cap."""
    channel_types = list(queued.values_list("channel_type", flat=True).distinct().order_by())
    for channel_type in channel_types:
        refused = ~Q(consent__marketing=True)
        if key := CONSENT_KEY.get(channel_type):
            refused |= Q(**{f"consent__{key}": False})
        without_consent = Contact.objects.filter(organization=organization).filter(refused).values("pk")
        _skip(queued.filter(channel_type=channel_type, contact__in=without_consent), SkipReason.NO_CONSENT)

    suppressed = Suppression.objects.filter(
        organization=organization, channel_type=OuterRef("channel_type"), address=Lower(OuterRef("recipient_address"))
    )
    _skip(queued.filter(Exists(suppressed)), SkipReason.SUPPRESSED)

    if organization.frequency_cap_messages and frequency_cap:
        since = now - timedelta(hours=organization.frequency_cap_hours)
        capped = (
            Message.objects.filter(organization=organization, sent_at__gte=since)
            .values("contact")
            .annotate(sent=Count("id"))
            .filter(sent__gte=organization.frequency_cap_messages)
            .values("contact")
        )
        _skip(queued.filter(contact__in=capped), SkipReason.FREQUENCY_CAP)


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
    transaction.on_commit(lambda: execution_resolved.send(sender=Execution, execution=execution))
    logger.info(
        "Execution %s resolved %d rows in %.2fs",
        execution.public_id,
        written,
        (timezone.now() - started).total_seconds(),
    )
    return True


# --- triggered sends -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriggeredSend:
    """One contact to message because one event fired one trigger, no earlier than `send_after`."""

    occurrence_key: str
    event_id: str
    contact: Contact
    send_after: datetime


def execution_start_triggered(campaign: Campaign, *, sends: list[TriggeredSend], now: datetime) -> dict[str, Execution]:
    """Starts one `triggered` execution per send and writes its one message row; returns them by occurrence key.

    Why an execution per (trigger, event) rather than rows added to one
    long-running execution: the engine's unit of idempotency is the
    execution's occurrence key and its (execution, contact, channel) unique
    row, so a contact fired twice gets two messages and a redelivered event
    none twice, and each send has its own counters, pause and completion.
    Resolution here is the engine's step 2 for a known audience of one:
    holdout, variant and channel from the same stable hashes and channel
    chain as the set-based SQL, written with one bulk insert for the whole
    batch of events; policy (step 3) is the same `messages_skip_by_policy`.
    The trigger already chose `send_after` (delay, quiet hours, send window),
    so the rows wait as queued with `send_after` and the dispatcher claims
    them when due: the delay is a scheduled send through the same pipeline.
    """
    if not sends:
        return {}
    correlation_id = correlation.get_or_new()
    with transaction.atomic():
        Execution.objects.bulk_create(
            [Execution(campaign=campaign, execution_type=ExecutionType.TRIGGERED, occurrence_key=send.occurrence_key,
                       trigger_event_id=send.event_id[:128], status=ExecutionStatus.RUNNING, started_at=now,
                       correlation_id=correlation_id) for send in sends],
            ignore_conflicts=True,
        )  # fmt: skip
        runs = {
            run.occurrence_key: run
            for run in Execution.objects.filter(campaign=campaign, occurrence_key__in=[s.occurrence_key for s in sends])
        }
        chains, variants = _channel_chain(campaign), list(campaign.variants.order_by("id"))
        rows = [_triggered_message(campaign, runs[send.occurrence_key], send, chains, variants, now) for send in sends]
        Message.objects.bulk_create(rows, ignore_conflicts=True)
        mine = Message.objects.filter(execution__in=list(runs.values()))
        messages_skip_by_policy(mine.filter(status=MessageStatus.QUEUED), organization=campaign.organization, now=now)
        # A run whose only row was skipped has nothing to send: complete it now, in one statement.
        waiting = mine.filter(status=MessageStatus.QUEUED).values("execution")
        Execution.objects.filter(pk__in=[run.pk for run in runs.values()], status=ExecutionStatus.RUNNING).exclude(
            pk__in=waiting
        ).update(status=ExecutionStatus.COMPLETED, completed_at=now, total_audience_size=1)
        Execution.objects.filter(pk__in=waiting).update(total_audience_size=1, messages_queued=1)
    return runs


def _triggered_message(campaign: Campaign, run: Execution, send: TriggeredSend, chains, variants, now) -> Message:
    """The message row `_plan`'s SQL would write for this one contact."""
    contact = send.contact
    holdout = assignment.bucket(f"{campaign.public_id}:holdout", contact.id) < round(
        float(campaign.holdout_percentage) * 100
    )
    variant = None
    if campaign.winner_variant_id:
        variant = next((v for v in variants if v.pk == campaign.winner_variant_id), None)
    elif variants:
        point, cumulative = assignment.bucket(f"{campaign.public_id}:variant", contact.id), 0
        for candidate in variants:
            cumulative += round(float(candidate.allocation_percentage) * 100)
            if point < cumulative:
                variant = candidate
                break
        variant = variant or variants[-1]
    chain = chains.get(variant.pk if variant else None) or chains[None]
    channel = next((c for c in chain if getattr(contact, ADDRESS_COLUMN[c.channel_type])), None)
    control = variant is not None and variant.is_control and not campaign.winner_variant_id
    reason = (
        SkipReason.HOLDOUT
        if holdout
        else SkipReason.CONTROL
        if control
        else SkipReason.NO_ADDRESS
        if not channel
        else ""
    )
    first = next((c[0].channel_type for c in chains.values() if c), ChannelType.EMAIL)
    return Message(
        organization_id=campaign.organization_id, campaign=campaign, execution=run, variant=variant, channel=channel,
        contact=contact, channel_type=channel.channel_type if channel else first,
        recipient_address=getattr(contact, ADDRESS_COLUMN[channel.channel_type]) if channel else "",
        status=MessageStatus.SKIPPED if reason else MessageStatus.QUEUED, skip_reason=reason, is_holdout=holdout,
        send_after=send.send_after if send.send_after > now else None, correlation_id=run.correlation_id,
    )  # fmt: skip
