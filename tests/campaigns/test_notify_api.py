"""Seed 002's four Notify functions under /api/v1/notify/, with their examples and error codes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audiences.models import ContactEmbedding
from campaigns import notify, notify_services
from campaigns.models import Execution, NotificationSchedule, NotifyRequest, ScheduledNotification
from messaging.models import Message
from shokti.celery import app as celery_app
from shokti.models import Role
from tests.campaigns.notify_setup import _fresh_matrices, engaged, offered_campaign  # noqa: F401
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notify/"


@pytest.fixture
def catalogue(org):
    """Three offered campaigns (one with a daytime window), embedded, and seed 002's user_12345."""
    campaigns = {
        "cleaning": offered_campaign(org, "Black Friday Sale", body="Home cleaning half price", priority="high"),
        "plumbing": offered_campaign(org, "Plumbing checkup", body="Leaking taps fixed today", priority="low"),
        "launch": offered_campaign(
            org, "New Product Launch", body="Meet our new beauty service",
            time_window_start=datetime(2025, 12, 5, 10, tzinfo=UTC), time_window_end=datetime(2025, 12, 5, 20, tzinfo=UTC),
        ),
    }  # fmt: skip
    notify.campaign_embeddings_refresh(organization_id=org.pk)
    contact = ContactFactory(organization=org, external_id="user_12345")
    engaged(contact, campaigns["cleaning"], clicked_at=timezone.now())
    notify.contact_embeddings_refresh(organization_id=org.pk)
    return campaigns


def post(client, name, body, **headers):
    return client.post(f"{BASE}{name}", body, format="json", **headers)


# --- get-recommended-campaigns ----------------------------------------------------------------------


def test_the_seed_request_ranks_campaigns_by_similarity(api_client, catalogue):
    response = post(
        api_client, "get-recommended-campaigns",
        {"user_id": "user_12345", "num_recommendations": 10, "exclude_campaign_ids": ["camp_001", "camp_002"],
         "time_window": {"start": "2025-12-05T08:00:00Z", "end": "2025-12-05T22:00:00Z"}},
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success" and body["user_id"] == "user_12345"
    assert isinstance(body["processing_time_ms"], int) and body["timestamp"].endswith("Z")
    recommendations = body["recommendations"]
    assert [r["rank"] for r in recommendations] == [1, 2, 3]
    assert recommendations[0]["campaign_id"] == catalogue["cleaning"].public_id
    assert recommendations[0]["campaign_name"] == "Black Friday Sale" and recommendations[0]["priority"] == "high"
    scores = [r["similarity_score"] for r in recommendations]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    # One click in one send, shrunk by the prior: (1 + 1) / (1 + 20).
    assert recommendations[0]["estimated_ctr"] == pytest.approx(2 / 21, abs=1e-4)
    launch = next(r for r in recommendations if r["campaign_id"] == catalogue["launch"].public_id)
    assert (launch["time_window_start"], launch["time_window_end"]) == ("2025-12-05T10:00:00Z", "2025-12-05T20:00:00Z")


def test_exclusions_windows_and_unsubscribes_narrow_the_list(api_client, catalogue, org):
    contact = ContactFactory(organization=org, external_id="u2")
    engaged(contact, catalogue["plumbing"], unsubscribed_at=timezone.now())
    response = post(
        api_client, "get-recommended-campaigns",
        {"user_id": "u2", "num_recommendations": 5, "exclude_campaign_ids": [catalogue["cleaning"].public_id],
         "time_window": {"start": "2025-12-05T06:00:00Z", "end": "2025-12-05T09:00:00Z"}},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["recommendations"] == []


def test_example_one_asks_for_five_and_a_contact_without_a_vector_gets_one_computed(api_client, catalogue, org):
    ContactFactory(organization=org, external_id="newcomer")
    response = post(api_client, "get-recommended-campaigns", {"user_id": "newcomer", "num_recommendations": 5})
    assert response.status_code == 200
    assert len(response.json()["recommendations"]) == 3
    assert ContactEmbedding.objects.filter(contact__external_id="newcomer").exists()


def test_example_two_an_unknown_user_is_404_user_not_found(api_client, catalogue):
    response = post(api_client, "get-recommended-campaigns", {"user_id": "invalid_user"})
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == "error" and body["error_code"] == "USER_NOT_FOUND"
    assert body["error_message"] == "User invalid_user not found in user embeddings"
    assert body["request_id"] == body["correlation_id"] and body["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    "body",
    [{}, {"user_id": "user_12345", "num_recommendations": 21}, {"user_id": "user_12345", "num_recommendations": 0},
     {"user_id": "user_12345", "time_window": {"start": "2025-12-05T22:00:00Z", "end": "2025-12-05T08:00:00Z"}}],
)  # fmt: skip
def test_an_invalid_request_is_400(api_client, catalogue, body):
    response = post(api_client, "get-recommended-campaigns", body)
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_REQUEST"


def test_campaigns_not_embedded_yet_are_503(api_client, org):
    offered_campaign(org, "Fresh")
    ContactFactory(organization=org, external_id="user_12345")
    response = post(api_client, "get-recommended-campaigns", {"user_id": "user_12345"})
    assert response.status_code == 503 and response.json()["error_code"] == "CAMPAIGN_EMBEDDINGS_UNAVAILABLE"


def test_another_organizations_user_is_not_found(client_for, other_org, catalogue):
    response = post(client_for(other_org), "get-recommended-campaigns", {"user_id": "user_12345"})
    assert response.status_code == 404


def test_analysts_may_read_recommendations(client_for, org, catalogue):
    analyst = client_for(org, Role.ANALYST)
    assert post(analyst, "get-recommended-campaigns", {"user_id": "user_12345"}).status_code == 200
    assert post(analyst, "create-notification-schedule", {}).status_code == 403


# --- user-embedding ------------------------------------------------------------------------------------


def test_user_embedding_answers_the_stored_vector(api_client, catalogue):
    response = post(api_client, "user-embedding", {"user_id": "user_12345", "embedding_version": "v1"})
    assert response.status_code == 200
    body = response.json()
    assert body["embedding_dimension"] == 384 == len(body["embedding"])
    assert body["embedding_version"] == "v1" and body["model_version"] == "feature-hashing-384-v1"
    assert body["created_at"].endswith("Z") and body["last_updated"].endswith("Z")


def test_user_embedding_errors(api_client, org, catalogue):
    assert post(api_client, "user-embedding", {"user_id": "nobody"}).json()["error_code"] == "USER_NOT_FOUND"
    ContactFactory(organization=org, external_id="not_yet")
    response = post(api_client, "user-embedding", {"user_id": "not_yet"})
    assert response.status_code == 503 and response.json()["error_code"] == "EMBEDDING_NOT_AVAILABLE"
    response = post(api_client, "user-embedding", {"user_id": "user_12345", "embedding_version": "v9"})
    assert response.status_code == 503


# --- create-notification-schedule ---------------------------------------------------------------------


def seed_schedule_body(catalogue, **overrides):
    body = {
        "user_id": "user_12345",
        "recommended_campaigns": [
            {"campaign_id": catalogue["cleaning"].public_id, "similarity_score": 0.876, "priority": "high"},
            {"campaign_id": catalogue["launch"].public_id, "similarity_score": 0.812, "priority": "medium"},
        ],
        "constraints": {
            "max_notifications_per_day": 5,
            "quiet_hours": {"start": "22:00", "end": "08:00"},
            "user_preferences": {"preferred_times": ["09:00", "14:00", "19:00"], "blackout_dates": ["2025-12-25"]},
        },
        "schedule_date": "2025-12-05",
    }
    body.update(overrides)
    return body


def test_the_seed_schedule_request_places_both_campaigns_by_the_rules(api_client, catalogue):
    response = post(api_client, "create-notification-schedule", seed_schedule_body(catalogue))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["schedule_id"].startswith("sched_") and body["schedule_date"] == "2025-12-05"
    assert body["total_scheduled"] == 2 == len(body["notifications"])
    assert 0 < body["optimization_score"] <= 1
    times = {n["campaign_id"]: n["scheduled_time"] for n in body["notifications"]}
    assert [n["sequence"] for n in body["notifications"]] == [1, 2]
    assert all(n["notification_status"] == "pending" for n in body["notifications"])
    for when in times.values():
        assert "08:00:00Z" <= when[11:] < "22:00:00Z"
    launch = times[catalogue["launch"].public_id]
    assert "2025-12-05T10:00:00Z" <= launch < "2025-12-05T20:00:00Z"
    stored = api_client.get(f"{BASE}schedules/{body['schedule_id']}").json()
    assert stored["notifications"] == body["notifications"]


def test_example_one_needs_only_the_cap_and_a_blackout_date_schedules_nothing(api_client, catalogue):
    minimal = seed_schedule_body(catalogue, constraints={"max_notifications_per_day": 1})
    response = post(api_client, "create-notification-schedule", minimal)
    assert response.status_code == 200 and response.json()["total_scheduled"] == 1
    blackout = seed_schedule_body(catalogue, schedule_date="2025-12-25")
    assert post(api_client, "create-notification-schedule", blackout).json()["total_scheduled"] == 0


def test_constraints_are_read_in_the_requests_timezone(api_client, catalogue):
    body = seed_schedule_body(catalogue, timezone="Asia/Dhaka")
    notifications = post(api_client, "create-notification-schedule", body).json()["notifications"]
    for notification in notifications:
        local = datetime.fromisoformat(notification["scheduled_time"]).astimezone(
            notify_services.ZoneInfo("Asia/Dhaka")
        )
        assert 8 <= local.hour < 22


@pytest.mark.parametrize(
    ("constraints", "code"),
    [
        ({"max_notifications_per_day": 6}, "MAX_NOTIFICATIONS_EXCEEDED"),
        ({"max_notifications_per_day": 3, "quiet_hours": {"start": "25:00", "end": "08:00"}}, "INVALID_CONSTRAINTS"),
        ({"max_notifications_per_day": 0}, "INVALID_CONSTRAINTS"),
        ({"quiet_hours": {"start": "22:00", "end": "08:00"}}, "INVALID_CONSTRAINTS"),
        ({"max_notifications_per_day": 2, "user_preferences": {"blackout_dates": ["someday"]}}, "INVALID_CONSTRAINTS"),
    ],
)
def test_bad_constraints_are_400_and_store_nothing(api_client, catalogue, constraints, code):
    response = post(api_client, "create-notification-schedule", seed_schedule_body(catalogue, constraints=constraints))
    assert response.status_code == 400 and response.json()["error_code"] == code
    assert not NotificationSchedule.objects.exists()


def test_an_unknown_campaign_is_invalid_request(api_client, catalogue):
    body = seed_schedule_body(catalogue, recommended_campaigns=[{"campaign_id": "camp_005", "similarity_score": 0.8}])
    response = post(api_client, "create-notification-schedule", body)
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_REQUEST"


def test_a_repeated_idempotency_key_or_request_id_returns_the_first_schedule(api_client, catalogue):
    first = post(api_client, "create-notification-schedule", seed_schedule_body(catalogue), HTTP_IDEMPOTENCY_KEY="k1")
    again = post(api_client, "create-notification-schedule", seed_schedule_body(catalogue), HTTP_IDEMPOTENCY_KEY="k1")
    assert again.json() == first.json() and NotificationSchedule.objects.count() == 1
    by_id = seed_schedule_body(catalogue, request_id="req_xyz789")
    assert post(api_client, "create-notification-schedule", by_id).json() == (
        post(api_client, "create-notification-schedule", by_id).json()
    )
    assert NotificationSchedule.objects.count() == 2 == NotifyRequest.objects.count()


# --- create-delivery-schedule and the timed sends ------------------------------------------------------


@pytest.fixture
def schedule(api_client, catalogue):
    body = post(api_client, "create-notification-schedule", seed_schedule_body(catalogue)).json()
    return body


def delivery_body(schedule, **overrides):
    body = {
        "schedule_id": schedule["schedule_id"],
        "user_id": "user_12345",
        "notifications": [
            {k: n[k] for k in ("sequence", "campaign_id", "scheduled_time")} for n in schedule["notifications"]
        ],
        "target_lambda_arn": "arn:aws:lambda:us-east-1:123456789:function:send-notification",
        "timezone": "America/New_York",
    }
    body.update(overrides)
    return body


def test_delivery_registers_one_clocked_beat_entry_per_notification(api_client, schedule):
    response = post(api_client, "create-delivery-schedule", delivery_body(schedule), HTTP_IDEMPOTENCY_KEY="d1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["eventbridge_rules_created"] == 2 and body["schedule_id"] == schedule["schedule_id"]
    first = schedule["notifications"][0]
    assert body["rules"][0] == {
        "rule_name": f"notify-user_12345-{first['campaign_id']}-seq1",
        "state": "ENABLED",
        "schedule_expression": f"at({first['scheduled_time'][:19]})",
    }
    entries = PeriodicTask.objects.filter(name__startswith=f"notify:{schedule['schedule_id']}")
    assert entries.count() == 2
    entry = entries.get(name__endswith="seq1")
    assert entry.one_off and entry.task == "campaigns.tasks.fire_notification"
    assert entry.clocked.clocked_time == datetime.fromisoformat(first["scheduled_time"])
    assert set(ScheduledNotification.objects.values_list("channel_type", flat=True)) == {"in_app"}

    again = post(api_client, "create-delivery-schedule", delivery_body(schedule), HTTP_IDEMPOTENCY_KEY="d1")
    assert again.status_code == 201 and again.json() == body and entries.count() == 2


def test_delivery_of_a_notification_not_in_the_schedule_is_rejected(api_client, schedule):
    wrong = delivery_body(schedule, notifications=[{"sequence": 4, "campaign_id": "camp_005",
                                                     "scheduled_time": "2025-12-05T09:00:00Z"}])  # fmt: skip
    response = post(api_client, "create-delivery-schedule", wrong)
    assert response.status_code == 400 and not PeriodicTask.objects.filter(name__startswith="notify:").exists()
    assert (
        post(api_client, "create-delivery-schedule", delivery_body(schedule, timezone="Mars/Base")).status_code == 400
    )
    missing = delivery_body(schedule, schedule_id="sched_nope")
    assert post(api_client, "create-delivery-schedule", missing).status_code == 404


def test_a_notification_sends_at_its_time_and_follows_its_message(
    api_client, schedule, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    post(api_client, "create-delivery-schedule", delivery_body(schedule))
    notification = ScheduledNotification.objects.get(schedule__public_id=schedule["schedule_id"], sequence=1)
    due = notification.scheduled_time

    # The clock says a minute early: nothing happens.
    assert notify_services.notification_fire(notification.pk, now=due - timedelta(minutes=1)) is None
    assert not Execution.objects.filter(occurrence_key__startswith="notify:").exists()

    with django_capture_on_commit_callbacks(execute=True):
        fired = notify_services.notification_fire(notification.pk, now=due)
    run = Execution.objects.get(public_id=fired)
    assert run.only_contact.external_id == "user_12345" and run.execution_type == "triggered"
    message = Message.objects.get(execution=run)
    assert message.channel_type == "in_app" and message.status == "sent"
    # A second firing of the same entry sends nothing new.
    assert notify_services.notification_fire(notification.pk, now=due) is None
    assert Message.objects.filter(execution__occurrence_key__startswith="notify:").count() == 1

    body = api_client.get(f"{BASE}schedules/{schedule['schedule_id']}").json()
    assert body["notifications"][0]["notification_status"] == "sent"
    assert body["notifications"][0]["delivery_time"] is not None
    assert body["notifications"][1]["notification_status"] == "pending"

    Message.objects.filter(pk=message.pk).update(status="clicked", clicked_at=timezone.now())
    assert notify_services.notifications_refresh_status() == 1
    notification.refresh_from_db()
    assert notification.status == "clicked" and notification.click_time is not None


def test_a_notification_fired_too_late_fails_instead_of_sending(api_client, schedule):
    post(api_client, "create-delivery-schedule", delivery_body(schedule))
    notification = ScheduledNotification.objects.get(schedule__public_id=schedule["schedule_id"], sequence=1)
    late = notification.scheduled_time + notify_services.MAX_FIRING_DELAY + timedelta(minutes=1)
    assert notify_services.notification_fire(notification.pk, now=late) is None
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.execution_id is None
