"""Dispatch end to end into a real SMTP server on loopback: batches, throttles, pause, retries, recovery."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audiences.models import Suppression
from campaigns import lifecycle, send_journal
from campaigns.dispatch import claim, execution_send_batch, sweep_stale_sending
from campaigns.execution import execution_complete_if_done, execution_resolve, execution_start
from campaigns.models import Campaign, Execution
from messaging.models import Message
from shokti.celery import app as celery_app
from tests.campaigns.engine import bulk_contacts, new_execution, ready_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(smtp_server, settings):
    smtp_server.configure(settings)
    return smtp_server


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def running(campaign) -> Execution:
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    execution = new_execution(campaign)
    execution_resolve(execution)
    return execution


def drain(execution, now=None) -> int:
    total = 0
    while (result := execution_send_batch(execution, now=now)).claimed:
        total += result.sent
    return total


def recipients(smtp) -> list[str]:
    return [address for mail in smtp.mails for address in mail.rcpt_tos]


def test_a_manual_run_sends_everyone_exactly_once_and_completes(
    org, smtp, settings, eager, django_capture_on_commit_callbacks
):
    settings.SHOKTI_BATCH_SIZE = 7
    bulk_contacts(org, 40)
    campaign = ready_campaign(
        org, variants=[("A", 50, False), ("B", 50, False)], holdout=10,
        channels=[{"channel_type": "email", "email_subject": "Hi {{ first_name }}",
                   "email_body_html": '<p>Hello <a href="https://example.com/offer">offer</a></p>'}],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        execution, _ = execution_start(campaign, execution_type="manual", occurrence_key="manual:1", actor="tester")
    execution.refresh_from_db()
    queued = Message.objects.filter(execution=execution, is_holdout=False).count()
    assert execution.status == "completed"
    assert sorted(recipients(smtp)) == sorted(set(recipients(smtp)))
    assert len(smtp.mails) == queued == execution.messages_sent
    assert execution.holdout_size == 40 - queued
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"
    mail = smtp.mails[0].message
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in mail["List-Unsubscribe"]
    html = mail.get_body(("html",)).get_content()
    assert "/t/c/" in html and "/t/o/" in html and "https://example.com/offer" not in html
    assert set(Message.objects.filter(execution=execution, is_holdout=False).values_list("status", flat=True)) == {
        "sent"
    }


def test_the_throttle_holds_across_batches(org, smtp):
    bulk_contacts(org, 12)
    execution = running(ready_campaign(org, throttle_per_minute=5))
    start = timezone.now().replace(second=0, microsecond=0)
    assert execution_send_batch(execution, now=start).sent == 5
    throttled = execution_send_batch(execution, now=start + timedelta(seconds=20))
    assert throttled.claimed == 0 and 0 < throttled.retry_in <= 40
    assert execution_send_batch(execution, now=start + timedelta(minutes=1)).sent == 5
    assert execution_send_batch(execution, now=start + timedelta(minutes=2)).sent == 2
    assert len(smtp.mails) == 12


def test_pause_stops_within_one_batch_and_resume_goes_on(
    org, smtp, settings, eager, django_capture_on_commit_callbacks
):
    settings.SHOKTI_BATCH_SIZE = 10
    bulk_contacts(org, 25)
    campaign = ready_campaign(org)
    execution = running(campaign)
    assert execution_send_batch(execution).sent == 10
    lifecycle.campaign_pause(Campaign.objects.get(pk=campaign.pk), actor="tester")
    assert execution_send_batch(execution).stopped
    assert len(smtp.mails) == 10
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.campaign_resume(Campaign.objects.get(pk=campaign.pk), actor="tester")
    assert len(smtp.mails) == 25 == len(set(recipients(smtp)))
    assert Execution.objects.get(pk=execution.pk).status == "completed"


def test_a_transient_refusal_is_retried_with_backoff(org, smtp):
    ids = bulk_contacts(org, 3)
    execution = running(ready_campaign(org))
    flaky = Message.objects.get(execution=execution, contact_id=ids[0]).recipient_address
    smtp.refuse(flaky, "451 4.3.0 Try again later")
    now = timezone.now()
    assert execution_send_batch(execution, now=now).sent == 2
    row = Message.objects.get(execution=execution, contact_id=ids[0])
    assert (row.status, row.attempts) == ("queued", 1) and row.send_after > now
    assert execution_send_batch(execution, now=now).claimed == 0  # backing off
    smtp.handler.refusals.clear()
    assert execution_send_batch(execution, now=row.send_after).sent == 1
    assert recipients(smtp).count(flaky) == 1


def test_a_hard_bounce_fails_the_row_and_suppresses_the_address(org, smtp):
    ids = bulk_contacts(org, 2)
    execution = running(ready_campaign(org))
    bad = Message.objects.get(execution=execution, contact_id=ids[1]).recipient_address
    smtp.refuse(bad, "550 5.1.1 No such user")
    drain(execution)
    row = Message.objects.get(execution=execution, contact_id=ids[1])
    assert (row.status, row.bounce_type) == ("bounced", "hard")
    assert Suppression.objects.filter(organization=org, channel_type="email", address=bad.lower()).exists()
    assert execution_complete_if_done(execution)


def test_the_sweeper_settles_rows_a_dead_worker_left_sending(org, smtp, settings, tmp_path):
    settings.SHOKTI_DATA_DIR = tmp_path
    settings.SHOKTI_SEND_LEASE_SECONDS = 60
    bulk_contacts(org, 6)
    execution = running(ready_campaign(org))
    long_ago = timezone.now() - timedelta(minutes=5)
    claimed = claim(execution, 6, long_ago)
    # The dead worker's journal: the provider had accepted the first two.
    journal = send_journal.SendJournal()
    for pk in claimed[:2]:
        journal.accepted(pk, f"<{pk}@example.com>")
    assert sweep_stale_sending() == {"sent": 2, "requeued": 4}
    assert Message.objects.filter(pk__in=claimed[:2], status="sent").count() == 2
    assert drain(execution) == 4
    assert len(smtp.mails) == 4  # the two accepted before the crash are not sent again


def test_rows_within_their_lease_are_left_alone(org, settings, tmp_path):
    settings.SHOKTI_DATA_DIR = tmp_path
    bulk_contacts(org, 2)
    execution = running(ready_campaign(org))
    claim(execution, 2, timezone.now())
    assert sweep_stale_sending() == {"sent": 0, "requeued": 0}
