"""Benchmark of POST /api/v1/notify/get-recommended-campaigns over HTTP.

Loads N contacts with embeddings (default 1,000,000) and 1,000 offered campaigns
into the PostgreSQL of DATABASE_URL, serves the app in one process and fires
requests at a fixed rate from this one, then prints p50/p95/p99. Latency is
measured from each request's scheduled start, so a slow server cannot hide
its queue by slowing the sender down.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shokti_bench \\
        python bench/notify.py --users 1000000 --campaigns 1000 --rate 200 --seconds 30
"""

import argparse
import http.client
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shokti.settings")

ORG_SLUG = "bench-notify"
WORDS = ["cleaning", "plumbing", "electrical", "appliance", "repair", "beauty", "salon", "pest", "control", "sale", "discount", "offer", "winter", "summer", "festival", "eid", "puja", "home", "sofa", "carpet", "kitchen", "bathroom", "ac", "service", "checkup", "premium", "new", "launch"]  # fmt: skip


def load(users: int, campaigns: int) -> None:
    import django

    django.setup()
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from audiences.models import Contact
    from campaigns import notify
    from campaigns.models import Campaign
    from shokti.models import Organization

    organization, _ = Organization.objects.get_or_create(slug=ORG_SLUG, defaults={"name": "Notify benchmark"})
    rng = random.Random(2)
    if Campaign.objects.filter(organization=organization).count() < campaigns:
        Campaign.objects.filter(organization=organization).delete()
        Campaign.objects.bulk_create(
            Campaign(organization=organization, name=" ".join(rng.sample(WORDS, 3)).title(),
                     description=" ".join(rng.sample(WORDS, 8)), category=rng.choice(WORDS), campaign_type="triggered",
                     status="active", priority=rng.choice(["low", "medium", "high"]), created_by="bench")
            for _ in range(campaigns)
        )  # fmt: skip
        notify.campaign_embeddings_refresh(organization_id=organization.pk)
    have = Contact.objects.filter(organization=organization).count()
    if have >= users:
        print(f"reusing {have} contacts", flush=True)
        return
    started, now, vectors_rng = time.perf_counter(), timezone.now(), np.random.default_rng(2)
    chunk = 50_000
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        for first in range(have, users, chunk):
            count = min(chunk, users - first)
            ids = [uuid.uuid4() for _ in range(count)]
            vectors = notify.normalise(vectors_rng.standard_normal((count, notify.DIMENSIONS)).astype(np.float32))
            with raw.copy(
                "COPY audiences_contact (id, organization_id, external_id, email, phone, first_name, last_name, "
                "locale, timezone, consent, attributes, created_at, updated_at) FROM STDIN"
            ) as copy:
                for offset, contact_id in enumerate(ids):
                    copy.write_row((contact_id, organization.pk, f"bench_{first + offset}", "", "", "", "", "bn",
                                    "Asia/Dhaka", '{"marketing": true}', "{}", now, now))  # fmt: skip
            with raw.copy(
                "COPY audiences_contactembedding (contact_id, organization_id, vector, embedding_version, "
                "model_version, created_at, last_updated) FROM STDIN"
            ) as copy:
                for contact_id, vector in zip(ids, vectors, strict=True):
                    copy.write_row((contact_id, organization.pk, notify.to_bytes(vector), notify.EMBEDDING_VERSION,
                                    notify.HashingEmbedder.model_version, now, now))  # fmt: skip
            connection.commit() if not connection.get_autocommit() else None
            print(f"loaded {first + count} contacts in {time.perf_counter() - started:.0f}s", flush=True)
        cursor.execute("ANALYZE audiences_contact; ANALYZE audiences_contactembedding")


def token() -> str:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from shokti.models import ApiToken, Membership, Organization, Role

    organization = Organization.objects.get(slug=ORG_SLUG)
    user, _ = get_user_model().objects.get_or_create(username="bench-notify")
    membership, _ = Membership.objects.get_or_create(
        user=user, defaults={"organization": organization, "role": Role.MARKETER}
    )
    return ApiToken.issue(membership=membership)[1]


def fire(port: int, bearer: str, users: int, rate: float, seconds: float, workers: int) -> list[float]:
    """Open-loop load: request i is due at start + i / rate, whoever is free sends it."""
    due: queue.Queue = queue.Queue()
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while (scheduled := due.get()) is not None:
            body = json.dumps({"user_id": f"bench_{random.randrange(users)}", "num_recommendations": 10})
            try:
                connection.request("POST", "/api/v1/notify/get-recommended-campaigns", body,
                                   {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"})  # fmt: skip
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                status = 0
            with lock:
                latencies.append(time.perf_counter() - scheduled)
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    for index in range(int(rate * seconds)):
        at = start + index / rate
        time.sleep(max(0.0, at - time.perf_counter()))
        due.put(at)
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    if failures:
        print(f"non-200 answers: {len(failures)} (e.g. {failures[:5]})")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")

    load(args.users, args.campaigns)
    bearer = token()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
           "SHOKTI_INTERNAL_TOKEN": "bench", "SHOKTI_API_RATE_LIMIT": "1000000/minute", "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"], cwd=ROOT, env=env
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.2)
        fire(args.port, bearer, args.users, 20, 2, 4)  # warm-up: loads the campaign matrix, opens connections
        latencies = sorted(fire(args.port, bearer, args.users, args.rate, args.seconds, args.workers))
    finally:
        server.terminate()
        server.wait()
    ms = [value * 1000 for value in latencies]

    def pick(q: float) -> float:
        return ms[min(len(ms) - 1, int(q * len(ms)))]

    print(f"users={args.users} campaigns={args.campaigns} rate={args.rate}/s seconds={args.seconds} requests={len(ms)}")
    print(f"p50={pick(0.50):.1f}ms p95={pick(0.95):.1f}ms p99={pick(0.99):.1f}ms max={ms[-1]:.1f}ms")


if __name__ == "__main__":
    main()
