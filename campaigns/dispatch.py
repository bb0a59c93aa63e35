"""Dispatch: claim a batch of message rows, render, send through the channel backend, record in bulk.

A batch is claimed by one conditional UPDATE (queued → sending, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent workers take disjoint
rows), rendered with templates compiled once per batch, sent over one
backend instance (one SMTP connection), and recorded with a few bulk UPDATEs.
Every accepted message is journaled the moment the provider accepts it (see
campaigns.send_journal) so the sweeper can settle a dead worker's rows.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from audiences.models import Suppression
from campaigns import send_journal
from campaigns.events import batch_recorded
from campaigns.models import Campaign, CampaignStatus, Execution, ExecutionStatus
from campaigns.throttle import throttle_acquire, throttle_release
from messaging import links
from messaging.channels import Outcome, OutgoingMessage, get_channel
from messaging.models import Message, MessageStatus
from messaging.rendering import contact_context, render_template, text_to_html

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def batch_size() -> int:
    return settings.SHOKTI_BATCH_SIZE


def lease() -> timedelta:
    """How long a claimed row may stay `sending` before the sweeper treats its worker as dead."""
    return timedelta(seconds=settings.SHOKTI_SEND_LEASE_SECONDS)


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry_in: float = 0.0  # seconds, when throttled
    stopped: bool = False  # paused, cancelled or finished: no follow-up batch


# --- claiming -------------------------------------------------------------------------------------------


def claim(execution: Execution, limit: int, now: datetime) -> list[int]:
    """Moves up to `limit` due rows to `sending` and returns their ids; no two workers get the same row."""
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = f"""
        UPDATE messaging_message SET status = %s, sending_at = %s, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM messaging_message
            WHERE execution_id = %s
              AND (status = %s OR (status = %s AND send_after <= %s))
              AND (send_after IS NULL OR send_after <= %s)
            ORDER BY id LIMIT %s {lock}
        )
        RETURNING id
    """  # noqa: S608 (no user input is interpolated)
    params = [MessageStatus.SENDING, now, execution.pk, MessageStatus.QUEUED, MessageStatus.DEFERRED, now, now, limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# --- rendering ------------------------------------------------------------------------------------------


def render(message: Message) -> OutgoingMessage:
    """The message as its channel sends it: templates rendered, links tracked, unsubscribe headers set."""
    channel = message.channel
    context = contact_context(message.contact)
    context["unsubscribe_url"] = links.unsubscribe_url(message)
    outgoing = OutgoingMessage(
        message_pk=message.pk,
        public_id=message.public_id,
        channel_type=message.channel_type,
        recipient=message.recipient_address,
        metadata={"campaign_id": message.campaign.public_id, "execution_id": message.execution.public_id,
                  "correlation_id": message.correlation_id},
    )  # fmt: skip
    kind = message.channel_type
    if message.campaign.content_source == Campaign.ContentSource.GENERATOR:
        # The generator wrote (and the safety filter passed) this row's text before the batch was rendered.
        outgoing.subject, outgoing.text = message.generated_subject, message.generated_text
        if kind == "email":
            outgoing.html = links.rewrite_html(text_to_html(message.generated_text), message)
            outgoing.headers = links.list_unsubscribe_headers(message)
        return outgoing
    if kind == "email":
        outgoing.subject = render_template(channel.email_subject, context)
        html = render_template(channel.email_body_html, context, html=True)
        outgoing.html = links.rewrite_html(html, message) if html else ""
        outgoing.text = render_template(channel.email_body_text, context)
        outgoing.sender_name = channel.email_sender_name
        outgoing.sender_email = channel.email_sender_email
        outgoing.reply_to = channel.email_reply_to
        outgoing.headers = links.list_unsubscribe_headers(message)
    elif kind == "sms":
        outgoing.text = render_template(channel.sms_body, context)
    elif kind == "whatsapp":
        outgoing.text = render_template(channel.whatsapp_body, context)
        outgoing.template_id = channel.whatsapp_template_id
    elif kind == "in_app":
        outgoing.title = render_template(channel.in_app_title, context)
        outgoing.text = render_template(channel.in_app_body, context)
        outgoing.action_url = render_template(channel.in_app_action_url, context)
        outgoing.icon = channel.in_app_icon
    elif kind == "webhook":
        outgoing.url = channel.webhook_url
        outgoing.method = channel.webhook_method
        outgoing.headers = dict(channel.webhook_headers or {})
        outgoing.payload = render_template(channel.webhook_payload_template, context) or _default_payload(message)
    return outgoing


def _default_payload(message: Message) -> str:
    import json

    return json.dumps({"message_id": message.public_id, "campaign_id": message.campaign.public_id,
                       "user_id": message.contact.external_id, "channel": message.channel_type})  # fmt: skip


# --- recording ------------------------------------------------------------------------------------------


@dataclass
class _Outcomes:
    sent: list[Outcome] = field(default_factory=list)
    retry: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    bounced: list[Outcome] = field(default_factory=list)


def _mark_sent(sent: list[tuple[int, str]], now: datetime) -> None:
    """One UPDATE … FROM for the whole batch; bulk_update's per-row CASE costs a millisecond a row."""
    rows = " UNION ALL ".join(["SELECT CAST(%s AS BIGINT) AS id, CAST(%s AS TEXT) AS provider_id"] * len(sent))
    sql = (
        "UPDATE messaging_message SET status = %s, sent_at = %s, error_message = '', "  # noqa: S608
        f"provider_message_id = v.provider_id FROM ({rows}) AS v "
        "WHERE messaging_message.id = v.id AND messaging_message.status = %s"
    )
    params = [MessageStatus.SENT, now, *(value for row in sent for value in row), MessageStatus.SENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def record(messages: dict[int, Message], outcomes: list[Outcome], now: datetime) -> _Outcomes:
    """Writes a batch's outcomes with a few bulk statements."""
    sorted_outcomes = _Outcomes()
    for outcome in outcomes:
        message = messages[outcome.message_pk]
        if outcome.ok:
            sorted_outcomes.sent.append(outcome)
        elif outcome.bounce_type == "hard":
            sorted_outcomes.bounced.append(outcome)
        elif outcome.permanent or message.attempts >= MAX_ATTEMPTS:
            sorted_outcomes.failed.append(outcome)
        else:
            sorted_outcomes.retry.append(outcome)

    with transaction.atomic():
        if sorted_outcomes.sent:
            _mark_sent([(o.message_pk, o.provider_message_id[:255]) for o in sorted_outcomes.sent], now)
        for outcome_list, status, stamp in (
            (sorted_outcomes.failed, MessageStatus.FAILED, "failed_at"),
            (sorted_outcomes.bounced, MessageStatus.BOUNCED, "bounced_at"),
        ):
            if outcome_list:
                rows = []
                for outcome in outcome_list:
                    message = messages[outcome.message_pk]
                    message.status, message.error_message = status, outcome.error
                    message.bounce_type = outcome.bounce_type
                    setattr(message, stamp, now)
                    rows.append(message)
                Message.objects.bulk_update(rows, ["status", "error_message", "bounce_type", stamp])
        if sorted_outcomes.bounced:
            Suppression.objects.bulk_create(
                [
                    Suppression(organization_id=messages[o.message_pk].organization_id,
                                channel_type=messages[o.message_pk].channel_type,
                                address=messages[o.message_pk].recipient_address.lower(),
                                reason=Suppression.Reason.HARD_BOUNCE, source="provider",
                                campaign_public_id=messages[o.message_pk].campaign.public_id)
                    for o in sorted_outcomes.bounced
                ],
                ignore_conflicts=True,
            )  # fmt: skip
        if sorted_outcomes.retry:
            rows = []
            for outcome in sorted_outcomes.retry:
                message = messages[outcome.message_pk]
                # Exponential backoff: 30 s, 1 min, 2 min, 4 min…
                message.status = MessageStatus.QUEUED
                message.send_after = now + timedelta(seconds=30 * 2 ** max(message.attempts - 1, 0))
                message.error_message = outcome.error
                rows.append(message)
            Message.objects.bulk_update(rows, ["status", "send_after", "error_message"])
        _announce(messages, sorted_outcomes, now)
    return sorted_outcomes


def _announce(messages: dict[int, Message], recorded: _Outcomes, now: datetime) -> None:
    """Sends `batch_recorded` with the batch's outcomes grouped by campaign, execution, variant and channel."""
    counts: dict[tuple, int] = defaultdict(int)
    for status, outcome_list in (("sent", recorded.sent), ("failed", recorded.failed), ("bounced", recorded.bounced)):
        for outcome in outcome_list:
            m = messages[outcome.message_pk]
            counts[(m.campaign_id, m.execution_id, m.variant_id, m.channel_type, status)] += 1
    if not counts:
        return
    rows = [
        {"campaign_id": c, "execution_id": e, "variant_id": v, "channel_type": ch, "status": s, "count": n}
        for (c, e, v, ch, s), n in counts.items()
    ]
    transaction.on_commit(lambda: batch_recorded.send(sender=Message, at=now, counts=rows))


# --- one batch ------------------------------------------------------------------------------------------


def execution_send_batch(execution: Execution, *, now: datetime | None = None) -> BatchResult:
    """Claims, sends and records one batch of an execution's due rows."""
    now = now or timezone.now()
    execution = Execution.objects.select_related("campaign__organization").get(pk=execution.pk)
    campaign = execution.campaign
    if (
        campaign.status in {CampaignStatus.PAUSED, CampaignStatus.CANCELLED}
        or execution.status != ExecutionStatus.RUNNING
    ):
        return BatchResult(stopped=True)

    wanted, retry_in = throttle_acquire(campaign, batch_size(), now)
    if wanted == 0:
        return BatchResult(retry_in=retry_in)
    claimed = claim(execution, wanted, now)
    throttle_release(campaign, wanted - len(claimed), now)
    if not claimed:
        return BatchResult()

    messages = {
        m.pk: m
        for m in Message.objects.filter(pk__in=claimed).select_related("contact", "channel", "campaign", "execution")
    }
    if campaign.content_source == Campaign.ContentSource.GENERATOR:
        from campaigns.smartengage import smartengage_generate

        smartengage_generate(execution, list(messages.values()))
    journal = send_journal.current()

    def on_outcome(outcome: Outcome) -> None:
        if outcome.ok:
            journal.accepted(outcome.message_pk, outcome.provider_message_id)

    by_kind: dict[str, list[Message]] = defaultdict(list)
    for message in messages.values():
        by_kind[message.channel_type].append(message)
    outcomes: list[Outcome] = []
    for kind, group in by_kind.items():
        ready, broken = [], []
        for message in group:
            try:
                ready.append(render(message))
            except Exception as error:  # a template that fails for this contact fails only this message
                broken.append(Outcome(message_pk=message.pk, ok=False, error=str(error), permanent=True))
        outcomes.extend(broken)
        try:
            outcomes.extend(get_channel(kind, on_outcome=on_outcome).send(ready))
        except Exception as error:
            logger.exception("Channel %s failed a whole batch", kind)
            outcomes.extend(Outcome(message_pk=m.message_pk, ok=False, error=str(error)) for m in ready)

    result = record(messages, outcomes, timezone.now())
    journal.settled()
    Execution.objects.filter(pk=execution.pk).update(
        messages_sent=F("messages_sent") + len(result.sent),
        messages_failed=F("messages_failed") + len(result.failed) + len(result.bounced),
    )
    return BatchResult(claimed=len(claimed), sent=len(result.sent), failed=len(result.failed) + len(result.bounced))


def next_due_at(execution: Execution) -> datetime | None:
    """When the earliest waiting row of an execution becomes due (deferred or backing off)."""
    row = (
        Message.objects.filter(execution=execution, status__in=[MessageStatus.QUEUED, MessageStatus.DEFERRED])
        .order_by(F("send_after").asc(nulls_first=True))
        .values_list("send_after", flat=True)
        .first()
    )
    return row


# --- recovery -------------------------------------------------------------------------------------------


def sweep_stale_sending(*, now: datetime | None = None) -> dict[str, int]:
    """Settles rows left `sending` past their lease: journaled ones as sent, the rest queued again."""
    now = now or timezone.now()
    stale = list(
        Message.objects.filter(status=MessageStatus.SENDING, sending_at__lt=now - lease()).values_list("pk", flat=True)
    )
    if not stale:
        return {"sent": 0, "requeued": 0}
    accepted = send_journal.accepted_among(stale)
    with transaction.atomic():
        for pk, provider_id in accepted.items():
            # Rare (only rows a dead worker sent): one statement each keeps the provider id exact.
            Message.objects.filter(pk=pk, status=MessageStatus.SENDING).update(
                status=MessageStatus.SENT, sent_at=now, provider_message_id=provider_id[:255]
            )
        requeued = Message.objects.filter(
            pk__in=[pk for pk in stale if pk not in accepted], status=MessageStatus.SENDING
        ).update(status=MessageStatus.QUEUED, send_after=None)
    logger.warning("Swept %d stale rows: %d were sent, %d queued again", len(stale), len(accepted), requeued)
    return {"sent": len(accepted), "requeued": requeued}


def executions_with_work() -> list[int]:
    return list(
        Execution.objects.filter(status=ExecutionStatus.RUNNING, campaign__status__in=[
            CampaignStatus.RUNNING, CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED,
        ]).values_list("pk", flat=True)
    )  # fmt: skip
