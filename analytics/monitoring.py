"""Seed 004's Prometheus families, read from the database at scrape time.

Web, worker and beat are separate processes (and there may be many of each),
so an in-process prometheus_client Counter would report only the share of the
process that happens to answer the scrape. Rather than run every process in
prometheus_client's multiprocess mode (a shared PROMETHEUS_MULTIPROC_DIR that
must be wiped on each deploy), the collector below reads the tables that every
process already writes: campaigns, executions and the analytics counters. The
figures are then right whichever process is scraped, and survive restarts.
"""

import logging
from datetime import timedelta

from django.db import DatabaseError
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

from analytics.models import Counter, Metric
from campaigns.models import Campaign, CampaignStatus, Execution, ExecutionStatus, ExecutionType
from shokti.prometheus import register_collector

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
SENT_STATUSES = (Metric.SENT, Metric.DELIVERED, Metric.BOUNCED, Metric.FAILED)


class CampaignCollector:
    """campaigns_created_total, campaigns_completed_total, campaign_execution_duration_seconds,
    campaign_messages_sent_total and trigger_evaluations_total."""

    def describe(self):
        # Nothing at registration: the families are only known by reading the database.
        return []

    def collect(self):
        try:
            yield from self._families()
        except DatabaseError:
            logger.exception("Campaign metrics unavailable: the database did not answer")

    def _families(self):
        created = CounterMetricFamily("campaigns_created", "Campaigns created.", labels=["type", "organization"])
        for row in Campaign.objects.values("campaign_type", "organization__slug").annotate(n=Count("id")).order_by():
            created.add_metric([row["campaign_type"], row["organization__slug"]], row["n"])
        yield created

        completed = CounterMetricFamily("campaigns_completed", "Campaigns that ended.", labels=["type", "status"])
        ended = Campaign.objects.filter(status__in=[CampaignStatus.COMPLETED, CampaignStatus.CANCELLED])
        for row in ended.values("campaign_type", "status").annotate(n=Count("id")).order_by():
            completed.add_metric([row["campaign_type"], row["status"]], row["n"])
        yield completed

        duration = HistogramMetricFamily(
            "campaign_execution_duration_seconds", "Executions from start to completion.", labels=["type"]
        )
        took = ExpressionWrapper(F("completed_at") - F("started_at"), output_field=DurationField())
        finished = Execution.objects.filter(
            status=ExecutionStatus.COMPLETED, started_at__isnull=False, completed_at__isnull=False
        ).annotate(took=took)
        per_bucket = {f"le_{b}": Count("id", filter=Q(took__lte=timedelta(seconds=b))) for b in DURATION_BUCKETS}
        for row in (
            finished.values("execution_type").annotate(n=Count("id"), total=Sum("took"), **per_bucket).order_by()
        ):
            buckets = [(str(float(b)), row[f"le_{b}"]) for b in DURATION_BUCKETS] + [("+Inf", row["n"])]
            duration.add_metric([row["execution_type"]], buckets, (row["total"] or timedelta()).total_seconds())
        yield duration

        messages = CounterMetricFamily(
            "campaign_messages_sent", "Campaign messages by channel and outcome.", labels=["channel", "status"]
        )
        outcomes = Counter.objects.filter(metric__in=SENT_STATUSES).values("channel_type", "metric")
        for row in outcomes.annotate(n=Sum("count")).order_by():
            messages.add_metric([row["channel_type"], row["metric"]], float(row["n"]))
        yield messages

        # A trigger that fired starts one execution; evaluations that did not fire leave no row to count.
        triggers = CounterMetricFamily(
            "trigger_evaluations", "Trigger evaluations by campaign and result.", labels=["campaign", "result"]
        )
        fired = Execution.objects.filter(execution_type=ExecutionType.TRIGGERED)
        for row in fired.values("campaign__public_id").annotate(n=Count("id")).order_by():
            triggers.add_metric([row["campaign__public_id"], "fired"], row["n"])
        yield triggers


_collector = CampaignCollector()


def register() -> None:
    """Adds the collector to what /metrics serves, once per process."""
    register_collector(_collector)
