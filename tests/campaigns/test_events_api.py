"""POST /api/v1/events: validation per event, stored once per event_id, evaluation queued after commit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audiences.models import Contact, Event
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(org):
    return ContactFactory(organization=org, external_id="usr_1")


def body(event_id="evt_1", user_id="usr_1", **extra):
    return {"event_id": event_id, "event_type": "booking_completed", "user_id": user_id,
            "properties": {"amount": 120}, "occurred_at": "2026-01-01T10:00:00Z", **extra}  # fmt: skip


def post(api_client, payload):
    return api_client.post("/api/v1/events", payload, format="json")


def test_a_single_event_is_accepted_and_queues_its_evaluation(api_client, contact, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(api_client, body())
    assert response.status_code == 202, response.json()
    assert response.json()["accepted"] == 1
    stored = Event.objects.get(event_id="evt_1")
    assert stored.contact == contact and stored.properties == {"amount": 120}
    assert len(callbacks) == 1


def test_the_same_event_id_twice_is_stored_once(api_client, contact):
    assert post(api_client, body()).json()["accepted"] == 1
    again = post(api_client, {"events": [body(), body()]}).json()
    assert again["accepted"] == 0 and again["duplicates"] == 2
    assert Event.objects.filter(event_id="evt_1").count() == 1


def test_a_batch_keeps_its_good_events_and_rejects_the_bad_ones(api_client, contact):
    far = (timezone.now() + timedelta(days=2)).isoformat()
    events = [body("evt_a"), body("evt_b", event_type=""), body("evt_c", occurred_at=far), body("evt_d"),
              {"event_type": "x", "user_id": "usr_1", "surprise": 1}]  # fmt: skip
    answer = post(api_client, {"events": events})
    assert answer.status_code == 202
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "accepted", "rejected"]
    assert results[1]["errors"][0]["loc"] == ["body", "events", 1, "event_type"]
    assert results[2]["errors"][0]["loc"] == ["body", "events", 2, "occurred_at"]
    assert results[4]["errors"][0]["type"] == "extra_forbidden"
    assert set(Event.objects.values_list("event_id", flat=True)) == {"evt_a", "evt_d"}


def test_a_batch_of_only_bad_events_is_400_and_stores_nothing(api_client, contact):
    response = post(api_client, {"events": [body(user_id=""), body(event_type="has space")]})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_REQUEST"
    assert len(response.json()["details"]["errors"]) == 2
    assert not Event.objects.exists()


def test_batches_hold_1_to_1000_events(api_client, contact):
    assert post(api_client, {"events": []}).status_code == 400
    assert post(api_client, {"events": [body(f"e{n}") for n in range(1001)]}).status_code == 400
    assert not Event.objects.exists()


def test_an_unknown_user_is_answered_per_event_when_the_organization_creates_no_contacts(api_client, contact):
    answer = post(api_client, {"events": [body("e1"), body("e2", user_id="nobody")]}).json()
    assert answer["results"][1]["errors"][0]["type"] == "USER_NOT_FOUND"
    single = post(api_client, body("e3", user_id="nobody"))
    assert single.status_code == 404 and single.json()["error_code"] == "USER_NOT_FOUND"
    assert not Contact.objects.filter(external_id="nobody").exists()


def test_an_unknown_user_becomes_a_contact_when_the_organization_allows_it(api_client, org):
    org.events_create_contacts = True
    org.save()
    assert post(api_client, {"events": [body("e1", user_id="new"), body("e2", user_id="new")]}).json()["accepted"] == 2
    contact = Contact.objects.get(organization=org, external_id="new")
    assert set(contact.events.values_list("event_id", flat=True)) == {"e1", "e2"}


def test_events_are_scoped_to_the_token_organization(client_for, org, other_org, contact):
    ContactFactory(organization=other_org, external_id="usr_1")
    assert post(client_for(other_org), body()).status_code == 202
    assert post(client_for(org), body()).json()["accepted"] == 1
    assert Event.objects.filter(event_id="evt_1").count() == 2


def test_analysts_cannot_send_events(client_for, org, contact):
    assert post(client_for(org, "analyst"), body()).status_code == 403
