"""End-to-end execution benchmark on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shokti_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 \\
        python bench/execution.py --contacts 100000 [--resolve-only] [--workers 2]

Loads N contacts (COPY), then runs one email campaign with two variants and a
5% holdout: resolution in this process (timed), dispatch by real Celery worker
processes into an SMTP server on loopback (aiosmtpd, in its own process).
Prints recipients per second for resolution and for the whole run, and the
peak memory of this process and of the workers. Needs PostgreSQL; the broker
must be a real one (Redis or RabbitMQ) shared with the workers.
"""

import argparse
import io
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shokti.settings")
os.environ.setdefault("DEBUG", "1")


def smtp_sink(port_queue, counter):
    """An SMTP server that accepts and counts every message."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a log line per SMTP command would be the bottleneck

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free port: aiosmtpd cannot report one it was given as 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    port_queue.put(port)
    while True:  # until the benchmark terminates this process
        time.sleep(3600)


def load_contacts(organization, count: int) -> None:
    """COPY in slices of 50,000 rows, so loading does not inflate this process's peak memory."""
    from django.db import connection

    columns = ("id, organization_id, external_id, email, phone, first_name, last_name, locale, timezone, consent, "
               "attributes, last_booking_at, created_at, updated_at")  # fmt: skip
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY audiences_contact ({columns}) FROM STDIN") as copy:
            for start in range(0, count, 50_000):
                buffer = io.StringIO()
                for number in range(start, min(start + 50_000, count)):
                    buffer.write(
                        f"{uuid.uuid4()}\t{organization.pk}\tb{number}\tb{number}@example.com\t\tBench\t{number}\tbn\t"
                        'Asia/Dhaka\t{"marketing": true}\t{"plan": "premium"}\t\\N\tnow\tnow\n'
                    )
                copy.write(buffer.getvalue())
        # As autovacuum would soon after an import: the planner needs the new row counts.
        cursor.execute("ANALYZE audiences_contact")


def start_workers(count: int, smtp_port: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SHOKTI_BATCH_SIZE": "500",
        "LOG_LEVEL": "WARNING",
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shokti",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"bench{index}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for index in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (solo pool each)")
    parser.add_argument("--resolve-only", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from decimal import Decimal

    from django.conf import settings
    from django.db import connection

    from campaigns.execution import execution_apply_policy, execution_refresh_counts, execution_resolve
    from campaigns.models import Campaign, CampaignAudience, Channel, Execution, Variant
    from campaigns.tasks import kick
    from messaging.models import Message
    from shokti.models import Organization

    if connection.vendor != "postgresql":
        sys.exit("bench/execution.py needs DATABASE_URL pointing at PostgreSQL")
    if not args.resolve_only and settings.CELERY_BROKER_URL.startswith("filesystem"):
        sys.exit("set CELERY_BROKER_URL to Redis or RabbitMQ: the workers share it")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    organization = Organization.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Benchmark")
    started = time.perf_counter()
    load_contacts(organization, args.contacts)
    print(f"loaded {args.contacts} contacts in {time.perf_counter() - started:.1f}s")

    campaign = Campaign.objects.create(
        organization=organization, name="Benchmark", campaign_type="scheduled", schedule_type="one_time",
        holdout_percentage=Decimal(5), created_by="bench", status="running",
    )  # fmt: skip
    CampaignAudience.objects.create(
        campaign=campaign, segment_query=[{"field": "attributes.plan", "operator": "eq", "value": "premium"}]
    )
    for name in ("A", "B"):
        variant = Variant.objects.create(campaign=campaign, name=name, allocation_percentage=Decimal(50))
        Channel.objects.create(
            campaign=campaign, variant=variant, channel_type="email",
            email_subject=f"{name}: hello {{{{ first_name }}}}",
            email_body_html='<p>Hi {{ first_name }}, <a href="https://example.com/offer">see the offer</a>.</p>',
            email_body_text="Hi {{ first_name }}, see https://example.com/offer",
        )  # fmt: skip
    execution = Execution.objects.create(
        campaign=campaign, execution_type="manual", occurrence_key="bench", status="running"
    )

    started = time.perf_counter()
    written = execution_resolve(execution)
    resolve_seconds = time.perf_counter() - started
    execution_apply_policy(execution)
    execution_refresh_counts(execution)
    policy_seconds = time.perf_counter() - started - resolve_seconds
    print(f"resolution: {written} rows in {resolve_seconds:.2f}s = {written / resolve_seconds:,.0f} recipients/s "
          f"(policy {policy_seconds:.2f}s)")  # fmt: skip
    if args.resolve_only:
        print(f"peak memory (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        return

    to_send = Message.objects.filter(execution=execution, status="queued").count()
    port_queue, counter = multiprocessing.Queue(), multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=smtp_sink, args=(port_queue, counter), daemon=True)
    sink.start()
    port = port_queue.get(timeout=10)
    workers = start_workers(args.workers, port)
    time.sleep(3)  # let the workers connect
    send_started = time.perf_counter()
    kick(execution.pk, chains=args.workers * 2)
    try:
        while counter.value < to_send and time.perf_counter() - send_started < 3600:
            time.sleep(0.2)
        send_seconds = time.perf_counter() - send_started
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        os.kill(sink.pid, signal.SIGTERM)
    print(f"dispatch: {counter.value} emails in {send_seconds:.2f}s = {counter.value / send_seconds:,.0f} emails/s "
          f"({args.workers} workers)")  # fmt: skip
    total = resolve_seconds + policy_seconds + send_seconds
    print(f"whole run: {written} recipients in {total:.2f}s = {written / total:,.0f} recipients/s")
    print(f"peak memory: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB, "
          f"largest worker {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
