"""Seed 001's Prometheus families, read from the database at scrape time.

Messages are generated and sent by many Celery worker processes while /metrics
is served by the web processes. In-process counters would each see a fraction;
prometheus_client's multiprocess mode would need a shared directory on every
host and drops gauges of dead processes. The message rows already hold every
figure (agent, channel, type, status, generation time), so a collector reads
them with two grouped queries on each scrape: correct across any number of
processes and hosts, and it survives restarts.
"""

from django.db import DatabaseError
from django.db.models import Count, Q, Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_STATUS = {"sent": "sent", "delivered": "delivered", "opened": "delivered", "clicked": "delivered",
           "unsubscribed": "delivered", "failed": "failed", "bounced": "failed", "skipped": "skipped"}  # fmt: skip


def _families():
    return (
        CounterMetricFamily("ai_messages_sent", "Total number of AI-generated messages sent",
                            labels=["agent_type", "channel", "message_type", "status"]),
        GaugeMetricFamily("ai_messages_delivery_status", "Messages by delivery status", labels=["status"]),
    )  # fmt: skip


class AiMessageCollector:
    """ai_messages_sent_total, ai_messages_delivery_status and ai_message_generation_duration_seconds."""

    def describe(self):
        # Registration asks for names only; no query until the first scrape.
        return [*_families(), HistogramMetricFamily("ai_message_generation_duration_seconds", "")]

    def collect(self):
        from messaging.models import Message

        generated = Message.objects.exclude(agent_type="")
        try:
            rows = list(
                generated.values("agent_type", "channel_type", "message_type", "status").annotate(n=Count("id"))
            )
            timings = generated.filter(generation_seconds__isnull=False).aggregate(
                total=Sum("generation_seconds"), count=Count("id"),
                **{f"le_{index}": Count("id", filter=Q(generation_seconds__lte=le)) for index, le in enumerate(BUCKETS)},
            )  # fmt: skip
        except DatabaseError:
            return  # a scrape during a database outage shows the other families
        sent, delivery = _families()
        by_sent: dict[tuple, int] = {}
        by_delivery = {"sent": 0, "delivered": 0, "failed": 0}
        for row in rows:
            status = _STATUS.get(row["status"], "pending")
            labels = (row["agent_type"], row["channel_type"].upper(), row["message_type"], status)
            by_sent[labels] = by_sent.get(labels, 0) + row["n"]
            if status in by_delivery:
                by_delivery[status] += row["n"]
        for labels, value in sorted(by_sent.items()):
            sent.add_metric(list(labels), value)
        for status, value in by_delivery.items():
            delivery.add_metric([status], value)
        buckets = [(str(le), timings[f"le_{index}"]) for index, le in enumerate(BUCKETS)]
        buckets.append(("+Inf", timings["count"]))
        yield sent
        yield delivery
        yield HistogramMetricFamily("ai_message_generation_duration_seconds", "Time to generate AI messages",
                                    buckets=buckets, sum_value=timings["total"] or 0.0)  # fmt: skip


_collector = AiMessageCollector()


def register() -> None:
    """Adds the collector to what /metrics serves, once per process."""
    from shokti.prometheus import register_collector

    register_collector(_collector)
