"""Benchmark: the metrics endpoint and the analytics page over N message rows for 100 campaigns (PostgreSQL).

    createdb -h 127.0.0.1 -U postgres shokti_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shokti_bench python bench/metrics.py --rows 10000000

Fills the rows with one INSERT … SELECT over generate_series per campaign,
builds the counters with `rebuild_counters` (what the live signals would have
written), then times GET /api/v1/campaigns/{id}/metrics?breakdown_by=variant,channel&interval=day
and GET /analytics/campaigns/{id}/ in-process. Prints p50/p95/max in ms.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shokti.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from analytics.aggregation import counters_rebuild  # noqa: E402
from campaigns.models import Campaign, Channel, Execution, Variant  # noqa: E402
from shokti.models import Role  # noqa: E402
from tests.factories import MembershipFactory, OrganizationFactory, issue_token  # noqa: E402

CAMPAIGNS = 100


def fill(rows: int) -> list[Campaign]:
    org = OrganizationFactory(slug="bench")
    per_campaign = rows // CAMPAIGNS
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO audiences_contact (id, organization_id, external_id, email, phone, first_name, last_name,
                   locale, timezone, consent, attributes, created_at, updated_at)
               SELECT md5('bench' || n)::uuid, %s, 'u' || n, 'u' || n || '@example.com', '', '', '', 'bn',
                      'Asia/Dhaka', '{"marketing": true}', '{}', now(), now()
               FROM generate_series(1, %s) n""",
            [org.pk, per_campaign],
        )
    campaigns = []
    for number in range(CAMPAIGNS):
        campaign = Campaign.objects.create(organization=org, name=f"Bench {number}", campaign_type="scheduled",
                                           created_by="bench", status="completed")  # fmt: skip
        a = Variant.objects.create(campaign=campaign, name="A", allocation_percentage=50)
        b = Variant.objects.create(campaign=campaign, name="B", allocation_percentage=50)
        channel = Channel.objects.create(campaign=campaign, channel_type="email")
        execution = Execution.objects.create(campaign=campaign, execution_type="manual", occurrence_key="bench")
        with connection.cursor() as cursor:
            # Outcomes spread over 30 days: 95% sent, 90% delivered, 30% opened, 5% clicked, 2% bounced.
            cursor.execute(
                """INSERT INTO messaging_message (organization_id, campaign_id, execution_id, variant_id, channel_id,
                       contact_id, channel_type, recipient_address, status, skip_reason, is_holdout, attempts,
                       queued_at, sent_at, delivered_at, opened_at, clicked_at, bounced_at, error_message,
                       bounce_type, provider_message_id, correlation_id, metadata)
                   SELECT %(org)s, %(campaign)s, %(execution)s, CASE WHEN n %% 2 = 0 THEN %(a)s ELSE %(b)s END,
                          %(channel)s, md5('bench' || n)::uuid, 'email', 'u' || n || '@example.com',
                          CASE WHEN n %% 100 < 5 THEN 'skipped' WHEN n %% 100 < 7 THEN 'bounced'
                               WHEN n %% 100 < 12 THEN 'clicked' WHEN n %% 100 < 42 THEN 'opened'
                               ELSE 'delivered' END,
                          CASE WHEN n %% 100 < 5 THEN 'holdout' ELSE '' END, n %% 100 < 5, 1,
                          t, CASE WHEN n %% 100 >= 5 THEN t END, CASE WHEN n %% 100 >= 7 THEN t END,
                          CASE WHEN n %% 100 BETWEEN 7 AND 41 THEN t END, CASE WHEN n %% 100 BETWEEN 7 AND 11 THEN t END,
                          CASE WHEN n %% 100 BETWEEN 5 AND 6 THEN t END, '', '', '', '', '{}'
                   FROM (SELECT n, now() - (n %% 720) * interval '1 hour' AS t
                         FROM generate_series(1, %(rows)s) n) s""",
                {"org": org.pk, "campaign": campaign.pk, "execution": execution.pk, "a": a.pk, "b": b.pk,
                 "channel": channel.pk, "rows": per_campaign},
            )  # fmt: skip
        campaigns.append(campaign)
    return campaigns


def timed(client: Client, url: str, runs: int, **headers) -> tuple[float, float, float]:
    client.get(url, **headers)  # warm the connection and caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    campaigns = fill(args.rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {args.rows:,} message rows in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    written = counters_rebuild()
    print(f"rebuilt {written:,} counter rows in {time.perf_counter() - started:.0f} s")

    membership = MembershipFactory(organization=campaigns[0].organization, role=Role.ANALYST)
    api = Client()
    token = issue_token(membership)
    page = Client()
    page.force_login(membership.user)
    target = campaigns[len(campaigns) // 2]
    for name, client, url, headers in (
        ("metrics endpoint", api,
         f"/api/v1/campaigns/{target.public_id}/metrics?breakdown_by=variant,channel&interval=day",
         {"HTTP_AUTHORIZATION": f"Bearer {token}"}),
        ("analytics campaign page", page, f"/analytics/campaigns/{target.public_id}/", {}),
        ("analytics overview page", page, "/analytics/", {}),
    ):  # fmt: skip
        p50, p95, worst = timed(client, url, args.runs, **headers)
        print(f"{name:<26} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {worst:6.1f} ms   ({args.runs} runs)")


if __name__ == "__main__":
    main()
