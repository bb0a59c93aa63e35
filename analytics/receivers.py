"""Signal receivers that keep the counters current; connected in AnalyticsConfig.ready().

The engine and tracking send their signals after commit, once per batch or
once per message and event type, so each receiver adds without deduplicating.
"""

from django.db.models import Count
from django.db.models.functions import Trunc

from analytics.aggregation import Key, counters_increment, hour_of
from analytics.models import Metric
from campaigns.models import Campaign
from messaging import signals
from messaging.models import Message, MessageStatus, SkipReason

# What a message_event adds to, and the row's timestamp that buckets it.
EVENT_METRICS = {
    signals.DELIVERED: (Metric.DELIVERED, "delivered_at"),
    signals.OPENED: (Metric.OPENED, "opened_at"),
    signals.CLICKED: (Metric.CLICKED, "clicked_at"),
    signals.BOUNCED: (Metric.BOUNCED, "bounced_at"),
    signals.UNSUBSCRIBED: (Metric.UNSUBSCRIBED, "unsubscribed_at"),
}
REPEAT_METRICS = {signals.OPENED: Metric.OPENS_REPEAT, signals.CLICKED: Metric.CLICKS_REPEAT}


def _key(message: Message, at, metric: str) -> Key:
    return Key(message.organization_id, message.campaign_id, message.execution_id, message.variant_id or 0,
               message.channel_type, hour_of(at), metric)  # fmt: skip


def on_batch_recorded(sender, *, at, counts: list[dict], **kwargs) -> None:
    """One UPSERT for a dispatch batch's sent, failed and bounced rows."""
    organizations = dict(
        Campaign.objects.filter(pk__in={row["campaign_id"] for row in counts}).values_list("pk", "organization_id")
    )
    counters_increment(
        (
            Key(organizations[row["campaign_id"]], row["campaign_id"], row["execution_id"], row["variant_id"] or 0,
                row["channel_type"], hour_of(at), row["status"]),
            row["count"],
        )
        for row in counts
    )  # fmt: skip


def on_message_event(sender, *, event_type: str, message: Message, **kwargs) -> None:
    """One increment for a message's first delivery, open, click, bounce or unsubscribe."""
    if event_type not in EVENT_METRICS:
        return
    metric, stamp = EVENT_METRICS[event_type]
    counters_increment([(_key(message, getattr(message, stamp), metric), 1)])


def on_message_engaged_again(sender, *, event_type: str, message: Message, at, **kwargs) -> None:
    """Counts an open or click after the first, for the total (not unique) figures."""
    if event_type in REPEAT_METRICS:
        counters_increment([(_key(message, at, REPEAT_METRICS[event_type]), 1)])


def _count_skips(rows) -> None:
    grouped = (
        rows.annotate(hour=Trunc("queued_at", "hour"))
        .values("organization_id", "campaign_id", "execution_id", "variant_id", "channel_type", "skip_reason", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    counters_increment(
        (
            Key(row["organization_id"], row["campaign_id"], row["execution_id"], row["variant_id"] or 0,
                row["channel_type"], hour_of(row["hour"]), Metric.skipped(row["skip_reason"])),
            row["n"],
        )
        for row in grouped
    )  # fmt: skip


def on_execution_resolved(sender, *, execution, **kwargs) -> None:
    """Counts the rows resolution and policy skipped (holdout, control, consent…), once per execution.

    One grouped query in the worker that resolved it, never on a request. Rows
    skipped later by a cancellation are counted by `on_domain_event`.
    """
    _count_skips(
        Message.objects.filter(execution=execution, status=MessageStatus.SKIPPED).exclude(
            skip_reason=SkipReason.CAMPAIGN_CANCELLED
        )
    )


def on_domain_event(sender, *, event_type: str, campaign, **kwargs) -> None:
    """A cancellation skips what was still queued: those rows join the skip counters once it commits."""
    if event_type != "campaign.cancelled":
        return
    from django.db import transaction

    rows = Message.objects.filter(
        campaign=campaign, status=MessageStatus.SKIPPED, skip_reason=SkipReason.CAMPAIGN_CANCELLED
    )
    # A campaign is cancelled once, so every row with this reason is new.
    transaction.on_commit(lambda: _count_skips(rows))
