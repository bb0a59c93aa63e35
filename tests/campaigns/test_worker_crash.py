"""A real Celery worker killed mid-batch: afterwards every recipient has exactly one email.

Needs PostgreSQL (the worker process shares the test database) and a Redis
broker; the suite's PostgreSQL run has both.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from campaigns.dispatch import execution_send_batch, sweep_stale_sending
from campaigns.execution import execution_complete_if_done, execution_start
from messaging.models import Message
from shokti.celery import app as celery_app
from tests.campaigns.engine import bulk_contacts, ready_campaign

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/7"  # a database of its own, flushed afterwards

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
    ),
]


def slow_down(smtp_server, seconds: float) -> None:
    """Latency before each message is committed (at RCPT), so a kill lands mid-conversation.

    Once the client has sent DATA's final dot, a server delivers the message even if
    the client dies before reading the reply (RFC 1047); that window is the server's
    own acceptance latency and no client can close it, so the test does not widen it.
    """
    handler = smtp_server.handler
    original = handler.handle_RCPT

    async def handle_rcpt(server, session, envelope, address, rcpt_options):
        await asyncio.sleep(seconds)
        return await original(server, session, envelope, address, rcpt_options)

    handler.handle_RCPT = handle_rcpt


def start_worker(data_dir: Path, smtp_port: int) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SHOKTI_DATA_DIR": str(data_dir),
        "SHOKTI_BATCH_SIZE": "25",
        "DEBUG": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "shokti", "worker", "--concurrency=2", "--loglevel=WARNING",
               "--without-heartbeat", "--without-mingle", "--without-gossip"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def test_a_worker_killed_mid_batch_leaves_no_duplicate_and_no_gap(org, smtp_server, settings, tmp_path, monkeypatch):
    pytest.importorskip("redis").Redis.from_url(BROKER).flushdb()
    settings.SHOKTI_DATA_DIR = tmp_path
    settings.SHOKTI_SEND_LEASE_SECONDS = 1
    smtp_server.configure(settings)
    slow_down(smtp_server, 0.02)
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)
    monkeypatch.setitem(celery_app.conf, "broker_url", BROKER)
    # Publish through fresh connections to that broker; the cached ones point at the suite's.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)

    total = 300
    bulk_contacts(org, total)
    campaign = ready_campaign(org)
    worker = start_worker(tmp_path, smtp_server.port)
    try:
        execution, _ = execution_start(campaign, execution_type="manual", occurrence_key="manual:crash", actor="t")
        deadline = time.monotonic() + 60
        while len(smtp_server.mails) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp_server.mails) >= 60, "the worker never got going"
        os.killpg(worker.pid, signal.SIGKILL)  # mid-batch, no chance to record anything
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    stranded = Message.objects.filter(execution=execution, status="sending").count()
    assert stranded > 0, "the kill should have caught a batch in flight"

    # Recovery as the periodic sweeper does it, then the remaining batches in this process.
    sweep_stale_sending(now=timezone.now() + timedelta(seconds=5))
    while execution_send_batch(execution).claimed:
        pass
    assert execution_complete_if_done(execution)

    delivered = [address for mail in smtp_server.mails for address in mail.rcpt_tos]
    assert len(delivered) == total
    assert len(set(delivered)) == total
    assert Message.objects.filter(execution=execution, status="sent").count() == total
    pytest.importorskip("redis").Redis.from_url(BROKER).flushdb()
