"""Events benchmark: POST /api/v1/events to a running server with 10 active triggered campaigns.

Prints events accepted per second and the p50/p95 from acceptance (the
event's received_at) to the trigger decision (its history rows' evaluated_at).
Needs the server, a Celery worker and this script on the same database:

    DATABASE_URL=… CELERY_BROKER_URL=… python bench/events.py --url http://127.0.0.1:8000 --events 20000 --batch 500
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shokti.settings")

import django

django.setup()

import httpx2  # noqa: E402
from django.db.models import F  # noqa: E402

from audiences.models import Contact  # noqa: E402
from campaigns.models import Campaign, Channel, Trigger, TriggerHistory  # noqa: E402
from shokti.models import ApiToken, Membership, Organization, Role  # noqa: E402

EVENT_TYPE = "bench_purchase"
CAMPAIGNS = 10


def prepare(contacts: int) -> tuple[Organization, str]:
    """An organization with contacts, 10 active triggered campaigns on one event type, and a token."""
    from django.contrib.auth import get_user_model

    organization, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    existing = Contact.objects.filter(organization=organization).count()
    Contact.objects.bulk_create(
        [Contact(organization=organization, external_id=f"bench_{n}", email=f"bench_{n}@example.com",
                 attributes={"tier": n % 3}) for n in range(existing, contacts)],
        batch_size=5000,
    )  # fmt: skip
    while Campaign.objects.filter(organization=organization, status="active").count() < CAMPAIGNS:
        number = Campaign.objects.filter(organization=organization).count()
        campaign = Campaign.objects.create(organization=organization, name=f"Bench {number}",
                                           campaign_type="triggered", status="active", created_by="bench")  # fmt: skip
        Channel.objects.create(campaign=campaign, channel_type="in_app", in_app_title="Hi", in_app_body="Thanks")
        # Different conditions per campaign, so decisions mix triggered and skipped.
        Trigger.objects.create(campaign=campaign, event_type=EVENT_TYPE, frequency_limit=1000,
                               conditions=[{"field": "properties.amount", "operator": "gte", "value": number * 10}])  # fmt: skip
    user, _ = get_user_model().objects.get_or_create(username="bench")
    membership, _ = Membership.objects.get_or_create(user=user, defaults={"organization": organization,
                                                                          "role": Role.MARKETER})  # fmt: skip
    _, token = ApiToken.issue(membership=membership, name="bench")
    return organization, token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="events per request; 1 sends single events")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--contacts", type=int, default=5_000)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the decisions")
    args = parser.parse_args()

    organization, token = prepare(args.contacts)
    run = uuid.uuid4().hex[:8]
    events = [
        {"event_id": f"{run}-{n}", "event_type": EVENT_TYPE, "user_id": f"bench_{n % args.contacts}",
         "properties": {"amount": n % 100}}
        for n in range(args.events)
    ]  # fmt: skip
    bodies = (
        events
        if args.batch == 1
        else [{"events": events[i : i + args.batch]} for i in range(0, len(events), args.batch)]
    )
    client = httpx2.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def post(body) -> int:
        response = client.post(f"{args.url}/api/v1/events", json=body)
        response.raise_for_status()
        return response.json()["accepted"]

    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        accepted = sum(pool.map(post, bodies))
    elapsed = time.perf_counter() - started
    print(f"accepted {accepted} events in {elapsed:.2f}s: {accepted / elapsed:,.0f} events/s "
          f"({len(bodies) / elapsed:,.0f} requests/s, batch {args.batch}, concurrency {args.concurrency})")  # fmt: skip

    expected = accepted * CAMPAIGNS
    rows = TriggerHistory.objects.filter(organization=organization, event_id__startswith=f"{run}-")
    deadline = time.monotonic() + args.timeout
    while (decided := rows.count()) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    latencies = sorted(
        delay.total_seconds() for delay in rows.annotate(latency=F("evaluated_at") - F("event_received_at"))
         .values_list("latency", flat=True)
    )  # fmt: skip
    if not latencies:
        print("no decisions: is a Celery worker running on this database?")
        return
    p95 = latencies[int(len(latencies) * 0.95) - 1] if len(latencies) >= 20 else latencies[-1]
    print(f"decisions {decided}/{expected}: acceptance to decision p50 {statistics.median(latencies) * 1000:,.0f} ms, "
          f"p95 {p95 * 1000:,.0f} ms, triggered {rows.filter(triggered=True).count()}")  # fmt: skip


if __name__ == "__main__":
    main()
