from datetime import timedelta

import pytest
from django.utils import timezone

from audiences.models import Suppression
from messaging import signals, tracking
from messaging.models import Message
from tests.factories import MessageFactory

S = Message.Status
END_STATES = [S.BOUNCED, S.FAILED, S.SKIPPED, S.UNSUBSCRIBED]
NOT_SENT_YET = [S.QUEUED, S.DEFERRED, S.SENDING]


def at_status(org, status, **fields):
    return MessageFactory(organization=org, status=status, **fields)


@pytest.mark.parametrize("status", [S.SENT, S.DELIVERED])
def test_an_open_moves_a_sent_or_delivered_message_to_opened(org, status):
    message = at_status(org, status)

    assert tracking.message_record_open(message=message) is True

    message.refresh_from_db()
    assert message.status == S.OPENED
    assert message.opened_at is not None


def test_only_the_first_open_is_recorded(message, message_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = tracking.message_record_open(message=message)
        opened_at = Message.objects.get(pk=message.pk).opened_at
        again = tracking.message_record_open(message=message, at=timezone.now() + timedelta(hours=1))

    assert (first, again) == (True, False)
    assert Message.objects.get(pk=message.pk).opened_at == opened_at
    assert [event for event, _, _ in message_events] == [signals.OPENED]


def test_an_open_never_moves_a_clicked_message_back(org):
    message = at_status(org, S.CLICKED, opened_at=timezone.now(), clicked_at=timezone.now())

    tracking.message_record_open(message=message)
    tracking.message_record_delivered(message=message, at=timezone.now())

    message.refresh_from_db()
    assert message.status == S.CLICKED


@pytest.mark.parametrize("status", END_STATES[:-1] + NOT_SENT_YET)
def test_engagement_never_touches_messages_that_did_not_go_out_or_ended(org, status, message_events):
    message = at_status(org, status)

    tracking.message_record_delivered(message=message, at=timezone.now())
    tracking.message_record_open(message=message)
    tracking.message_record_click(message=message, url="https://example.com/")

    message.refresh_from_db()
    assert message.status == status
    assert (message.delivered_at, message.opened_at, message.clicked_at) == (None, None, None)
    assert message_events == []


def test_an_unsubscribed_message_keeps_its_status_but_records_its_open(org):
    message = at_status(org, S.UNSUBSCRIBED, unsubscribed_at=timezone.now())

    tracking.message_record_open(message=message)

    message.refresh_from_db()
    assert message.status == S.UNSUBSCRIBED
    assert message.opened_at is not None


def test_a_click_implies_the_open(message, message_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tracking.message_record_click(message=message, url="https://example.com/")
        tracking.message_record_click(message=message, url="https://example.com/other")

    message.refresh_from_db()
    assert message.status == S.CLICKED
    assert message.opened_at == message.clicked_at
    assert [(event, payload.get("url")) for event, _, payload in message_events] == [
        (signals.OPENED, None),
        (signals.CLICKED, "https://example.com/"),
    ]


def test_delivery_after_an_open_keeps_the_message_opened(message):
    tracking.message_record_open(message=message)
    tracking.message_record_delivered(message=message, at=timezone.now())

    message.refresh_from_db()
    assert message.status == S.OPENED
    assert message.delivered_at is not None


def test_a_bounce_ends_only_a_sent_or_delivered_message(org):
    sent, opened = at_status(org, S.SENT), at_status(org, S.OPENED, opened_at=timezone.now())

    for message in (sent, opened):
        tracking.message_record_bounce(message=message, bounce_type="soft", reason="mailbox full", at=timezone.now())

    sent.refresh_from_db()
    opened.refresh_from_db()
    assert (sent.status, sent.bounce_type, sent.error_message) == (S.BOUNCED, "soft", "mailbox full")
    assert (opened.status, opened.bounced_at) == (S.OPENED, None)
    assert not Suppression.objects.exists()


def test_a_hard_bounce_suppresses_the_address(message):
    tracking.message_record_bounce(message=message, bounce_type="hard", at=timezone.now())

    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.channel_type, suppression.reason, suppression.source) == (
        "rahim@example.com",
        "email",
        Suppression.Reason.HARD_BOUNCE,
        "provider",
    )
    assert suppression.organization_id == message.organization_id
    assert suppression.campaign_public_id == message.campaign.public_id


def test_unsubscribing_twice_suppresses_once(message, message_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tracking.message_unsubscribe(message=message, source="link") is True
        assert tracking.message_unsubscribe(message=message, source="one_click") is False

    assert Suppression.objects.get().source == "link"
    message.refresh_from_db()
    assert message.status == S.UNSUBSCRIBED
    assert [(event, payload["source"]) for event, _, payload in message_events] == [(signals.UNSUBSCRIBED, "link")]


def test_an_sms_unsubscribe_suppresses_the_phone_without_a_recipient_address(org):
    message = at_status(org, S.SENT, channel_type="sms", recipient_address="", contact__phone="+8801711000000")

    tracking.message_unsubscribe(message=message, source="link")

    assert Suppression.objects.get().address == "+8801711000000"


def test_signals_wait_for_the_commit(message, message_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        tracking.message_record_open(message=message)

    assert message_events == []
    assert len(callbacks) == 1


def test_a_failing_receiver_does_not_undo_the_recording(message, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise RuntimeError("counter down")

    signals.message_event.connect(broken, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert tracking.message_record_open(message=message) is True
    finally:
        signals.message_event.disconnect(broken)

    assert Message.objects.get(pk=message.pk).status == S.OPENED
