import pytest
from rest_framework.test import APIClient

from audiences.models import Suppression
from messaging import signals
from messaging.models import DeliveryEvent, Message
from shokti.models import Role
from tests.factories import MessageFactory

S = Message.Status
URL = "/api/v1/delivery-events"


def event(message, event_type="delivered", event_id="evt_1", **extra):
    return {
        "event_id": event_id,
        "message_id": message.public_id,
        "event_type": event_type,
        "occurred_at": "2026-01-05T10:00:00Z",
        **extra,
    }


def post(client, body):
    return client.post(URL, body, format="json")


def test_a_delivered_event_is_applied(api_client, message):
    response = post(api_client, event(message))

    assert response.status_code == 202
    assert response.json() == {
        "accepted": 1,
        "duplicates": 0,
        "results": [{"event_id": "evt_1", "status": "applied"}],
    }
    message.refresh_from_db()
    assert message.status == S.DELIVERED
    assert message.delivered_at.isoformat() == "2026-01-05T10:00:00+00:00"


def test_the_same_event_twice_is_applied_once(api_client, message, message_events, django_capture_on_commit_callbacks):
    body = event(message, "clicked", url="https://example.com/")

    with django_capture_on_commit_callbacks(execute=True):
        first = post(api_client, body)
        second = post(api_client, body)

    assert first.json()["results"][0]["status"] == "applied"
    assert second.json() == {"accepted": 0, "duplicates": 1, "results": [{"event_id": "evt_1", "status": "duplicate"}]}
    assert DeliveryEvent.objects.count() == 1
    assert [name for name, _, _ in message_events] == [signals.OPENED, signals.CLICKED]
    assert message_events[1][2]["provider_event_id"] == "evt_1"


def test_a_repeat_inside_one_batch_is_a_duplicate(api_client, message):
    response = post(api_client, {"events": [event(message), event(message)]})

    assert [result["status"] for result in response.json()["results"]] == ["applied", "duplicate"]


def test_a_batch_with_bad_events_still_applies_the_good_ones(api_client, org, message):
    bounced = MessageFactory(organization=org, sent=True)
    body = {
        "events": [
            event(message, event_id="e1"),
            event(message, "exploded", event_id="e2"),
            {"event_id": "e3", "message_id": message.public_id},
            event(bounced, "bounced", event_id="e4"),
            "not an event",
            event(message, event_id="e6", message_id="msg_ffffff"),
            event(message, event_id="e7", message_id="garbage"),
            event(bounced, "bounced", event_id="e8", bounce_type="soft", reason="mailbox full"),
        ]
    }

    response = post(api_client, body)

    assert response.status_code == 202
    data = response.json()
    assert [(r["event_id"], r["status"]) for r in data["results"]] == [
        ("e1", "applied"),
        ("e2", "invalid"),
        ("e3", "invalid"),
        ("e4", "invalid"),
        (None, "invalid"),
        ("e6", "not_found"),
        ("e7", "not_found"),
        ("e8", "applied"),
    ]
    assert (data["accepted"], data["duplicates"]) == (2, 0)
    assert data["results"][1]["error"].startswith("event_type:")
    assert data["results"][3]["error"].startswith("bounce_type:")
    assert all("error" in r for r in data["results"] if r["status"] != "applied")
    assert Message.objects.get(pk=message.pk).status == S.DELIVERED
    bounced.refresh_from_db()
    assert (bounced.status, bounced.bounce_type, bounced.error_message) == (S.BOUNCED, "soft", "mailbox full")
    assert not Suppression.objects.exists()


def test_a_json_array_is_a_batch(api_client, message):
    response = post(api_client, [event(message, event_id="a"), event(message, "opened", event_id="b")])

    assert response.json()["accepted"] == 2
    assert Message.objects.get(pk=message.pk).status == S.OPENED


def test_events_apply_monotonically(api_client, message):
    post(api_client, {"events": [event(message, "opened", event_id="o"), event(message, event_id="d")]})

    message.refresh_from_db()
    assert message.status == S.OPENED
    assert message.delivered_at is not None


def test_another_organizations_message_is_not_found_and_untouched(org, other_org, client_for, message):
    response = post(client_for(other_org), event(message, "bounced", bounce_type="hard"))

    assert response.json()["results"] == [
        {"event_id": "evt_1", "status": "not_found", "error": f"No message {message.public_id} in this organization."}
    ]
    assert Message.objects.get(pk=message.pk).status == S.SENT
    assert not DeliveryEvent.objects.exists()
    assert not Suppression.objects.exists()


def test_event_ids_are_unique_per_organization(org, other_org, client_for, message):
    theirs = MessageFactory(organization=other_org, sent=True)

    ours = post(client_for(org), event(message))
    their = post(client_for(other_org), event(theirs))

    assert ours.json()["accepted"] == their.json()["accepted"] == 1
    assert DeliveryEvent.objects.count() == 2


def test_a_hard_bounce_suppresses_the_address(api_client, message):
    post(api_client, event(message, "bounced", bounce_type="hard", reason="550 user unknown"))

    message.refresh_from_db()
    assert (message.status, message.bounce_type, message.error_message) == (S.BOUNCED, "hard", "550 user unknown")
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.source) == (
        "rahim@example.com",
        Suppression.Reason.HARD_BOUNCE,
        "provider",
    )


def test_a_complaint_suppresses_and_unsubscribes(
    api_client, message, message_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(api_client, event(message, "complained"))

    assert Suppression.objects.get().reason == Suppression.Reason.COMPLAINT
    assert Message.objects.get(pk=message.pk).status == S.UNSUBSCRIBED
    assert [(name, payload["reason"]) for name, _, payload in message_events] == [
        (signals.UNSUBSCRIBED, Suppression.Reason.COMPLAINT)
    ]


def test_a_failed_event_fails_a_sent_message(api_client, message):
    post(api_client, event(message, "failed", reason="carrier rejected"))

    message.refresh_from_db()
    assert (message.status, message.error_message, message.failed_at is not None) == (
        S.FAILED,
        "carrier rejected",
        True,
    )


def test_a_token_is_required(message):
    response = post(APIClient(), event(message))

    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHORIZED"
    assert not DeliveryEvent.objects.exists()


def test_an_analyst_cannot_report_events(org, client_for, message):
    response = post(client_for(org, Role.ANALYST), event(message))

    assert response.status_code == 403
    assert response.json()["error_code"] == "FORBIDDEN"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MARKETER])
def test_admins_and_marketers_can_report_events(org, client_for, message, role):
    assert post(client_for(org, role), event(message)).status_code == 202


@pytest.mark.parametrize("body", ['"delivered"', "42", "null", '{"events": {"event_id": "x"}}', '{"events": []}'])
def test_a_body_that_is_not_events_is_a_400_envelope(api_client, body):
    response = api_client.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert response.json()["error_code"] == "INVALID_REQUEST"


def test_malformed_json_is_a_400_envelope(api_client):
    response = api_client.post(URL, '{"event_id": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_REQUEST"


def test_a_batch_above_the_limit_is_refused(api_client, message):
    response = post(api_client, {"events": [event(message, event_id=f"e{n}") for n in range(1001)]})

    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()


def test_a_full_batch_is_applied_in_bounded_queries(api_client, org, django_assert_max_num_queries):
    messages = [MessageFactory(organization=org, sent=True) for _ in range(20)]
    body = {"events": [event(m, event_id=f"e{m.pk}") for m in messages]}

    # Auth and one lookup of the messages, then a fixed few statements per event (savepoints, insert, update).
    with django_assert_max_num_queries(10 + 8 * len(messages)):
        response = post(api_client, body)

    assert response.json()["accepted"] == 20
