"""Reads for the metrics API and the analysts' pages: sums of counters, never rows of messages."""

from django.shortcuts import get_object_or_404
from django.utils import timezone

from analytics.aggregation import counter_sums, metrics_body, time_series
from analytics.experiments import holdout_lift, variant_significance
from campaigns.models import Campaign
from shokti.models import Organization


def campaign_for(organization: Organization, public_id: str) -> Campaign:
    """The organization's campaign, or a 404: another organization's campaign does not exist for it."""
    return get_object_or_404(
        Campaign.objects.alive().filter(organization=organization).prefetch_related("variants"), public_id=public_id
    )


def campaign_metrics(
    campaign: Campaign, *, breakdown_by: list[str] = (), start=None, end=None, interval: str | None = None
) -> dict:
    """Seed 004's metrics body: totals, optional breakdowns by variant and channel, an optional time series."""
    by = ("variant_key", "channel_type")
    sums = counter_sums(campaign, by=by, start=start, end=end)
    total: dict = {}
    by_variant: dict = {}
    by_channel: dict = {}
    for (variant_key, channel_type), metrics in sums.items():
        for metric, amount in metrics.items():
            total[metric] = total.get(metric, 0) + amount
            by_variant.setdefault(variant_key, {})
            by_variant[variant_key][metric] = by_variant[variant_key].get(metric, 0) + amount
            by_channel.setdefault(channel_type, {})
            by_channel[channel_type][metric] = by_channel[channel_type].get(metric, 0) + amount
    body: dict = {"total": metrics_body(total)}
    lift = holdout_lift(campaign, totals=total)
    body["holdout"] = None if lift is None else lift.__dict__
    if "variant" in breakdown_by:
        names = {v.pk: v for v in campaign.variants.all()}
        body["by_variant"] = {
            names[key].public_id: {"name": names[key].name, "is_control": names[key].is_control,
                                   **metrics_body(metrics)}
            for key, metrics in sorted(by_variant.items()) if key in names
        }  # fmt: skip
    if "channel" in breakdown_by:
        body["by_channel"] = {key or "none": metrics_body(metrics) for key, metrics in sorted(by_channel.items())}
    if interval:
        body["time_series"] = time_series(campaign, interval=interval, start=start, end=end)
        body["interval"] = interval
    return {"campaign_id": campaign.public_id, "metrics": body, "updated_at": timezone.now()}


def campaign_variants_table(campaign: Campaign) -> list[dict]:
    """Per variant: counts, rates, the significance against its comparison arm, and whether it won."""
    verdict = variant_significance(campaign)
    sums = counter_sums(campaign, by=("variant_key",))
    rows = []
    for arm in verdict.arms:
        body = metrics_body(sums.get((arm.variant.pk,), {}))
        rows.append({
            "variant_id": arm.variant.public_id, "name": arm.variant.name, "is_control": arm.variant.is_control,
            "sent": body["sent"], "delivered": body["delivered"], "opened": body["opened"],
            "clicked": body["clicked"], "converted": body["converted"],
            "metric": verdict.metric, "successes": arm.successes, "trials": arm.trials, "rate": round(arm.rate, 6),
            "compared_with": arm.compared_with, "p_value": arm.p_value, "p_value_adjusted": arm.p_value_adjusted,
            "ci_low": arm.ci_low, "ci_high": arm.ci_high, "significant": arm.significant,
            "enough_data": verdict.enough_data,
            "winner": campaign.winner_variant_id == arm.variant.pk,
        })  # fmt: skip
    return rows
