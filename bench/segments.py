"""Segment estimates at scale on PostgreSQL: p50 and p95 of five typical segments.

    createdb -h 127.0.0.1 -U postgres shokti_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shokti_bench python bench/segments.py --contacts 1000000

Migrates the database, loads N contacts of a "bench-segments" organization with
booking and event histories (server-side INSERT … SELECT over generate_series,
skipped when that many are already there), then times `segment_estimate` for
each segment. Refuses SQLite: the figures are about PostgreSQL plans.
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shokti.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from audiences.models import Contact, Segment, Service  # noqa: E402
from audiences.segments import segment_contacts  # noqa: E402
from audiences.selectors import segment_estimate  # noqa: E402
from shokti.models import Organization  # noqa: E402

# Its own organization: other benchmarks may share the database.
ORGANIZATION = "bench-segments"

SEGMENTS = {
    "attribute: plan is premium": [{"field": "attributes.plan", "operator": "eq", "value": "premium"}],
    "booking recency: completed in 60 days": [
        {"field": "bookings.last_completed_at", "operator": "within_last_days", "value": 60}
    ],
    "event window: 3+ app opens in 30 days": [
        {"field": "events.count", "event_type": "app_open", "window_days": 30, "operator": "gte", "value": 3}
    ],
    "any/not: premium or 2+ bookings in 90 days, not opened in 14": [
        {
            "any": [
                {"field": "attributes.plan", "operator": "eq", "value": "premium"},
                {"field": "bookings.count", "window_days": 90, "operator": "gte", "value": 2},
            ]
        },
        {"not": {"field": "events.count", "event_type": "app_open", "window_days": 14, "operator": "gte", "value": 1}},
    ],
    "consent + locale: sms marketing in bn": [
        {"field": "consent.marketing", "operator": "eq", "value": True},
        {"field": "consent.sms", "operator": "eq", "value": True},
        {"field": "locale", "operator": "eq", "value": "bn"},
    ],
}

# Beyond the five: a lifetime aggregate over every completed booking, under an `any`.
HEAVY = {
    "heavy: premium or lifetime spend 2000+, not opened in 14": [
        {
            "any": [
                {"field": "attributes.plan", "operator": "eq", "value": "premium"},
                {"field": "bookings.total_spent", "operator": "gte", "value": 2000},
            ]
        },
        {"not": {"field": "events.count", "event_type": "app_open", "window_days": 14, "operator": "gte", "value": 1}},
    ],
}

CONTACTS_SQL = """
INSERT INTO audiences_contact (id, organization_id, external_id, email, phone, first_name, last_name,
                               locale, timezone, consent, attributes, created_at, updated_at)
SELECT gen_random_uuid(), %(org)s, 'bench_' || i, 'user' || i || '@example.com',
       '+88017' || lpad((i %% 100000000)::text, 8, '0'),
       (ARRAY['Rahim','Karim','Nusrat','Farhana','Tanvir','Sadia','Arif','Mitu'])[1 + i %% 8],
       (ARRAY['Ahmed','Hossain','Rahman','Islam','Chowdhury','Khan'])[1 + i %% 6],
       CASE WHEN random() < 0.2 THEN 'en' ELSE 'bn' END,
       CASE WHEN random() < 0.1 THEN 'Europe/London' ELSE '' END,
       jsonb_build_object('marketing', random() < 0.9, 'email', true, 'sms', random() < 0.7)
         || CASE WHEN random() < 0.2 THEN '{"whatsapp": false}'::jsonb ELSE '{}'::jsonb END,
       jsonb_build_object('plan', CASE WHEN r < 0.1 THEN 'premium' WHEN r < 0.35 THEN 'plus' ELSE 'free' END,
                          'age', 18 + (random() * 50)::int,
                          'city', (ARRAY['Dhaka','Chattogram','Sylhet','Khulna'])[1 + i %% 4]),
       now() - random() * interval '730 days', now()
FROM (SELECT i, random() AS r FROM generate_series(1, %(n)s) AS i) AS numbers
"""

# 0 to 5 bookings per contact (2.5 on average), 90 %% completed, over the last year.
BOOKINGS_SQL = """
INSERT INTO audiences_booking (id, organization_id, contact_id, service_id, status,
                               scheduled_at, finished_at, total_price, created_at)
SELECT gen_random_uuid(), %(org)s, c.id, (%(services)s::uuid[])[1 + k],
       CASE WHEN random() < 0.9 THEN 'completed' ELSE 'cancelled' END,
       now(), now() - random() * interval '365 days', (%(prices)s::numeric[])[1 + k], now()
FROM audiences_contact c
CROSS JOIN LATERAL generate_series(1, get_byte(uuid_send(c.id), 0) %% 6) AS n
CROSS JOIN LATERAL (SELECT get_byte(uuid_send(c.id), n) %% 5 AS k) AS pick
WHERE c.organization_id = %(org)s
"""

# 0 to 10 events per contact (5 on average) over the last 90 days, half of them app opens.
EVENTS_SQL = """
INSERT INTO audiences_event (organization_id, event_id, event_type, user_id, contact_id, properties,
                             occurred_at, received_at)
SELECT %(org)s, c.external_id || ':' || n,
       (ARRAY['app_open','app_open','app_open','page_view','page_view','purchase'])[1 + get_byte(uuid_send(c.id), n) %% 6],
       c.external_id, c.id, '{}'::jsonb, now() - random() * interval '90 days', now()
FROM audiences_contact c
CROSS JOIN LATERAL generate_series(1, get_byte(uuid_send(c.id), 1) %% 11) AS n
WHERE c.organization_id = %(org)s
"""

LAST_BOOKING_SQL = """
UPDATE audiences_contact c SET last_booking_at = b.latest
FROM (SELECT contact_id, max(finished_at) AS latest FROM audiences_booking
      WHERE organization_id = %(org)s AND status = 'completed' GROUP BY contact_id) AS b
WHERE c.id = b.contact_id
"""


def step(label: str, sql: str, params: dict) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    print(f"  {label}: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)


def load(organization: Organization, contacts: int) -> None:
    print(f"Loading {contacts:,} contacts into organization {organization.slug!r}…", flush=True)
    services = [
        Service.objects.get_or_create(
            organization=organization, name=f"Bench {category}", defaults={"category": category, "price": price}
        )[0]
        for category, price in [
            ("cleaning", 350),
            ("plumbing", 500),
            ("appliance", 1200),
            ("electrical", 600),
            ("pest_control", 1500),
        ]
    ]
    params = {
        "org": organization.pk,
        "n": contacts,
        "services": [str(service.pk) for service in services],
        "prices": [service.price for service in services],
    }
    # One transaction: a load that fails halfway leaves nothing a later run would take for complete.
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table in ("audiences_event", "audiences_booking", "audiences_contact"):
                cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SELECT setseed(0.2026)")
        step("contacts", CONTACTS_SQL, params)
        step("bookings", BOOKINGS_SQL, params)
        step("events", EVENTS_SQL, params)
        step("last_booking_at", LAST_BOOKING_SQL, params)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # The UPDATE left a dead copy of every contact; estimates should scan live rows only.
        cursor.execute("VACUUM FULL audiences_contact")
        for table in ("audiences_contact", "audiences_booking", "audiences_event"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  vacuum and analyze: {time.perf_counter() - started:.1f} s", flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per segment, after one warm-up")
    parser.add_argument("--reload", action="store_true", help="load the data again even if it is there")
    parser.add_argument("--explain", action="store_true", help="print each segment's query plan")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("bench/segments.py measures PostgreSQL: set DATABASE_URL=postgres://… (SQLite is refused).")
    call_command("migrate", verbosity=0)
    organization, _ = Organization.objects.get_or_create(
        slug=ORGANIZATION, defaults={"name": "Segments benchmark", "timezone": "Asia/Dhaka"}
    )
    if args.reload or Contact.objects.filter(organization=organization).count() != args.contacts:
        load(organization, args.contacts)

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
        version, workers, jit = cursor.fetchone()
    print(f"\n{version.split(',')[0]}; {os.cpu_count()} CPUs; parallel workers per gather {workers}; jit {jit}")
    print(f"{args.contacts:,} contacts; {args.runs} runs per segment after one warm-up\n")
    print(f"{'segment':<58} {'size':>10} {'p50 ms':>9} {'p95 ms':>9}")
    for name, conditions in {**SEGMENTS, **HEAVY}.items():
        segment, _ = Segment.objects.update_or_create(
            organization=organization, name=name, defaults={"conditions": conditions}
        )
        if args.explain:
            print(segment_contacts(segment).explain(analyze=True))
        size = segment_estimate(segment)
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            segment_estimate(segment)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{name:<58} {size:>10,} {percentile(timings, 0.5):>9.0f} {percentile(timings, 0.95):>9.0f}", flush=True)


if __name__ == "__main__":
    main()
