"""Counters: batched increments as outcomes arrive, a rebuild from message rows, and the reads.

Writers add to `Counter` with one multi-row `INSERT … ON CONFLICT DO UPDATE
SET count = count + excluded.count` per batch (PostgreSQL and SQLite both
speak it), so concurrent workers add instead of overwriting and a batch of 500
outcomes is one statement. Readers sum counters; nothing here counts message
rows on a request.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Trunc

from analytics.models import Conversion, Counter, Metric
from campaigns.models import Campaign
from messaging.models import Message, MessageStatus

ZERO = Decimal(0)
# 8 parameters a row: 4,000 rows stay under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
UPSERT_CHUNK = 4000


@dataclass(frozen=True)
class Key:
    """Where an increment lands: the counter's dimensions and metric."""

    organization_id: int
    campaign_id: int
    execution_id: int
    variant_key: int
    channel_type: str
    bucket: datetime
    metric: str


def hour_of(at: datetime) -> datetime:
    """The start of the UTC hour `at` falls in: the counters' bucket."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counters_increment(increments: Iterable[tuple[Key, Decimal | int]]) -> int:
    """Adds each amount to its counter, creating missing rows; one statement for the whole batch."""
    merged: dict[Key, Decimal] = defaultdict(Decimal)
    for key, amount in increments:
        merged[key] += Decimal(amount)
    merged = {key: amount for key, amount in merged.items() if amount}
    if not merged:
        return 0
    table = Counter._meta.db_table
    columns = "organization_id, campaign_id, execution_id, variant_key, channel_type, bucket, metric, count"
    field = Counter._meta.get_field("bucket")
    items = list(merged.items())
    with transaction.atomic(), connection.cursor() as cursor:
        # Chunks keep each statement under the databases' limits on bound parameters.
        for start in range(0, len(items), UPSERT_CHUNK):
            chunk = items[start : start + UPSERT_CHUNK]
            params: list = []
            for key, amount in chunk:
                params += [key.organization_id, key.campaign_id, key.execution_id, key.variant_key, key.channel_type,
                           field.get_db_prep_value(key.bucket, connection), key.metric, str(amount)]  # fmt: skip
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            # The ORM's bulk_create(update_conflicts=…) can only overwrite; an increment needs the old value.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {rows} "  # noqa: S608 (only our table and placeholders)
                "ON CONFLICT (campaign_id, execution_id, variant_key, channel_type, bucket, metric) "
                f"DO UPDATE SET count = {table}.count + excluded.count",
                params,
            )
    return len(merged)


# --- rebuild ----------------------------------------------------------------------------------------------


def counters_rebuild(*, campaign_ids: list[int] | None = None) -> int:
    """Recomputes every counter that message rows and conversions determine, in grouped queries.

    Repeat opens and clicks are kept as they are: no row records them, so the
    live counters are their only record.
    """
    messages = Message.objects.all()
    conversions = Conversion.objects.all()
    counters = Counter.objects.exclude(metric__in=[Metric.OPENS_REPEAT, Metric.CLICKS_REPEAT])
    if campaign_ids is not None:
        messages = messages.filter(campaign_id__in=campaign_ids)
        conversions = conversions.filter(campaign_id__in=campaign_ids)
        counters = counters.filter(campaign_id__in=campaign_ids)
    dims = ("organization_id", "campaign_id", "execution_id", "variant_id", "channel_type")
    increments: list[tuple[Key, Decimal]] = []

    def key(row: dict, bucket: datetime, metric: str) -> Key:
        return Key(row["organization_id"], row["campaign_id"], row["execution_id"], row["variant_id"] or 0,
                   row["channel_type"], hour_of(bucket), metric)  # fmt: skip

    for metric, stamp in Metric.FROM_ROWS.items():
        grouped = (
            messages.filter(**{f"{stamp}__isnull": False})
            .annotate(hour=Trunc(stamp, "hour"))
            .values(*dims, "hour")
            .annotate(n=Count("id"))
            .order_by()
        )
        increments += [(key(row, row["hour"], metric), row["n"]) for row in grouped]
    skipped = (
        messages.filter(status=MessageStatus.SKIPPED)
        .annotate(hour=Trunc("queued_at", "hour"))
        .values(*dims, "skip_reason", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    increments += [(key(row, row["hour"], Metric.skipped(row["skip_reason"])), row["n"]) for row in skipped]
    credited = (
        conversions.annotate(hour=Trunc("converted_at", "hour"))
        .values("organization_id", "campaign_id", "execution_id", "variant_key", "channel_type", "is_holdout", "hour")
        .annotate(credit=Sum("weight"), value=Sum("value"))
        .order_by()
    )
    for row in credited:
        base = Key(row["organization_id"], row["campaign_id"], row["execution_id"], row["variant_key"],
                   row["channel_type"], hour_of(row["hour"]), "")  # fmt: skip
        count_metric, value_metric = _conversion_metrics(row["is_holdout"])
        increments.append((_with_metric(base, count_metric), row["credit"]))
        increments.append((_with_metric(base, value_metric), row["value"]))
    with transaction.atomic():
        counters.delete()
        return counters_increment(increments)


def _with_metric(key: Key, metric: str) -> Key:
    return Key(key.organization_id, key.campaign_id, key.execution_id, key.variant_key, key.channel_type,
               key.bucket, metric)  # fmt: skip


def _conversion_metrics(is_holdout: bool) -> tuple[str, str]:
    if is_holdout:
        return Metric.HOLDOUT_CONVERTED, Metric.HOLDOUT_CONVERSION_VALUE
    return Metric.CONVERTED, Metric.CONVERSION_VALUE


def conversions_counted(conversions: Iterable[Conversion]) -> int:
    """Adds newly stored conversions to the counters."""
    increments = []
    for c in conversions:
        base = Key(c.organization_id, c.campaign_id, c.execution_id, c.variant_key, c.channel_type,
                   hour_of(c.converted_at), "")  # fmt: skip
        count_metric, value_metric = _conversion_metrics(c.is_holdout)
        increments.append((_with_metric(base, count_metric), c.weight))
        increments.append((_with_metric(base, value_metric), c.value))
    return counters_increment(increments)


# --- reads -------------------------------------------------------------------------------------------------


def _number(value: Decimal) -> int | float:
    """Whole counts as integers (seed 004's body); fractional attribution credit to 4 places."""
    return int(value) if value == value.to_integral_value() else round(float(value), 4)


def _ratio(numerator: Decimal, denominator: Decimal) -> float:
    return round(float(numerator / denominator), 6) if denominator else 0.0


def metrics_body(totals: dict[str, Decimal]) -> dict:
    """Seed 004's metric block with its rates, from summed counters (metric → amount)."""
    get = lambda metric: totals.get(metric, ZERO)  # noqa: E731
    skipped = {
        metric.removeprefix(Metric.SKIPPED_PREFIX): _number(amount)
        for metric, amount in sorted(totals.items())
        if metric.startswith(Metric.SKIPPED_PREFIX) and amount
    }
    delivered = get(Metric.DELIVERED)
    return {
        "sent": _number(get(Metric.SENT)),
        "delivered": _number(delivered),
        "opened": _number(get(Metric.OPENED)),
        "opened_total": _number(get(Metric.OPENED) + get(Metric.OPENS_REPEAT)),
        "clicked": _number(get(Metric.CLICKED)),
        "clicked_total": _number(get(Metric.CLICKED) + get(Metric.CLICKS_REPEAT)),
        "converted": _number(get(Metric.CONVERTED)),
        "conversion_value": round(float(get(Metric.CONVERSION_VALUE)), 2),
        "bounced": _number(get(Metric.BOUNCED)),
        "unsubscribed": _number(get(Metric.UNSUBSCRIBED)),
        "failed": _number(get(Metric.FAILED)),
        "skipped": sum(skipped.values()),
        "skipped_by_reason": skipped,
        "delivery_rate": _ratio(delivered, get(Metric.SENT)),
        "open_rate": _ratio(get(Metric.OPENED), delivered),
        "click_rate": _ratio(get(Metric.CLICKED), delivered),
        "conversion_rate": _ratio(get(Metric.CONVERTED), delivered),
    }


def counter_sums(campaign: Campaign, *, by: tuple[str, ...] = (), start=None, end=None) -> dict[tuple, dict]:
    """Sums of the campaign's counters grouped by `by` (counter fields), as {group: {metric: amount}}."""
    rows = Counter.objects.filter(campaign=campaign)
    if start is not None:
        rows = rows.filter(bucket__gte=start)
    if end is not None:
        rows = rows.filter(bucket__lt=end)
    grouped: dict[tuple, dict] = defaultdict(dict)
    for row in rows.values(*by, "metric").annotate(amount=Sum("count")).order_by():
        grouped[tuple(row[field] for field in by)][row["metric"]] = row["amount"] or ZERO
    return grouped


def time_series(campaign: Campaign, *, interval: str, start=None, end=None) -> list[dict]:
    """Counters per hour or day: [{"bucket_start", "bucket_end", metrics…}], oldest first."""
    rows = Counter.objects.filter(campaign=campaign)
    if start is not None:
        rows = rows.filter(bucket__gte=start)
    if end is not None:
        rows = rows.filter(bucket__lt=end)
    grouped: dict[datetime, dict] = defaultdict(dict)
    period = rows.annotate(period=Trunc("bucket", interval, tzinfo=UTC))
    for row in period.values("period", "metric").annotate(amount=Sum("count")).order_by("period"):
        grouped[row["period"]][row["metric"]] = row["amount"] or ZERO
    step = timedelta(hours=1) if interval == "hour" else timedelta(days=1)
    series = []
    for start_at, totals in sorted(grouped.items()):
        body = metrics_body(totals)
        series.append({"bucket_start": start_at, "bucket_end": start_at + step,
                       **{k: body[k] for k in ("sent", "delivered", "opened", "clicked", "converted", "bounced",
                                               "unsubscribed", "failed")}})  # fmt: skip
    return series


def organization_daily(organization_id: int, *, since: datetime) -> dict[int, dict[datetime, dict]]:
    """Per campaign and day since `since`: {campaign_id: {day: {metric: amount}}}, one grouped query."""
    result: dict[int, dict[datetime, dict]] = defaultdict(lambda: defaultdict(dict))
    rows = (
        Counter.objects.filter(organization_id=organization_id, bucket__gte=since)
        .filter(Q(metric=Metric.SENT) | Q(metric=Metric.OPENED) | Q(metric=Metric.CLICKED))
        .annotate(day=Trunc("bucket", "day", tzinfo=UTC))
        .values("campaign_id", "day", "metric")
        .annotate(amount=Sum("count"))
        .order_by()
    )
    for row in rows:
        result[row["campaign_id"]][row["day"]][row["metric"]] = row["amount"]
    return result


def organization_totals(organization_id: int, campaign_ids: list[int]) -> dict[int, dict]:
    """Summed counters of several campaigns: {campaign_id: {metric: amount}}, one grouped query."""
    totals: dict[int, dict] = defaultdict(dict)
    rows = (
        Counter.objects.filter(organization_id=organization_id, campaign_id__in=campaign_ids)
        .values("campaign_id", "metric")
        .annotate(amount=Sum("count"))
        .order_by()
    )
    for row in rows:
        totals[row["campaign_id"]][row["metric"]] = row["amount"] or ZERO
    return totals
