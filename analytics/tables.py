"""The analysts' tables, as (columns, rows): one source for the HTML pages and their CSV exports."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from analytics.aggregation import ZERO, metrics_body, organization_daily, organization_totals
from analytics.models import Metric
from analytics.selectors import campaign_metrics, campaign_variants_table
from campaigns.models import Campaign

SPARKLINE_DAYS = 14
FUNNEL = ("sent", "delivered", "opened", "clicked", "converted")
RATES = ("delivery_rate", "open_rate", "click_rate", "conversion_rate")


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


def overview(organization) -> tuple[Table, dict, dict]:
    """The organization's campaigns with their KPIs, the KPIs summed, and each campaign's daily sends."""
    campaigns = list(Campaign.objects.alive().filter(organization=organization).order_by("-created_at")[:200])
    totals = organization_totals(organization.pk, [c.pk for c in campaigns])
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=SPARKLINE_DAYS - 1)
    daily = organization_daily(organization.pk, since=since)
    days = [since + timedelta(days=n) for n in range(SPARKLINE_DAYS)]
    table = Table("campaigns", "Campaigns", ["campaign_id", "name", "status", *FUNNEL, *RATES])
    sparklines, summed = {}, {}
    for campaign in campaigns:
        metrics = totals.get(campaign.pk, {})
        for metric, amount in metrics.items():
            summed[metric] = summed.get(metric, ZERO) + amount
        body = metrics_body(metrics)
        table.rows.append([campaign.public_id, campaign.name, campaign.status, *(body[k] for k in FUNNEL),
                           *(body[k] for k in RATES)])  # fmt: skip
        per_day = daily.get(campaign.pk, {})
        sparklines[campaign.public_id] = [float(per_day.get(day, {}).get(Metric.SENT, 0)) for day in days]
    return table, metrics_body(summed), sparklines


def campaign_tables(campaign: Campaign, *, interval: str = "day") -> tuple[dict, dict[str, Table]]:
    """A campaign's metrics body and its tables: funnel, time series, variants, channels."""
    data = campaign_metrics(campaign, breakdown_by=["variant", "channel"], interval=interval)
    metrics = data["metrics"]
    total = metrics["total"]
    tables = {}
    funnel = Table("funnel", "Funnel", ["step", "count", "rate_of_previous"])
    previous = None
    for step in FUNNEL:
        count = total[step]
        funnel.rows.append([step, count, round(count / previous, 4) if previous else None])
        previous = count or None
    tables["funnel"] = funnel
    series = Table("time_series", "Time series", ["bucket_start", "sent", "delivered", "opened", "clicked",
                                                  "converted", "bounced", "unsubscribed", "failed"])  # fmt: skip
    for point in metrics["time_series"]:
        series.rows.append([point["bucket_start"].isoformat(), *(point[c] for c in series.columns[1:])])
    tables["time_series"] = series
    variants = Table("variants", "Variants", ["variant_id", "name", "is_control", "sent", "delivered", "opened",
                                              "clicked", "converted", "metric", "rate", "compared_with", "p_value",
                                              "p_value_adjusted", "ci_low", "ci_high", "significant",
                                              "enough_data", "winner"])  # fmt: skip
    for row in campaign_variants_table(campaign):
        variants.rows.append([_rounded(row[c]) for c in variants.columns])
    tables["variants"] = variants
    channels = Table("channels", "Channels", ["channel", *FUNNEL, "bounced", "unsubscribed", *RATES])
    for channel, body in metrics.get("by_channel", {}).items():
        channels.rows.append([channel, *(body[c] for c in channels.columns[1:])])
    tables["channels"] = channels
    holdout = Table("holdout", "Lift over holdout", ["treated", "treated_rate", "holdout", "holdout_rate",
                                                     "difference", "lift", "ci_low", "ci_high", "p_value"])  # fmt: skip
    if metrics["holdout"]:
        holdout.rows.append([_rounded(metrics["holdout"][c]) for c in holdout.columns])
    tables["holdout"] = holdout
    return data, tables


def _rounded(value):
    return round(value, 6) if isinstance(value, float) else value
