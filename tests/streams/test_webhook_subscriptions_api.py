import pytest

from streams.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-subscriptions"


def test_create_shows_the_secret_once_and_lists_in_the_envelope(api_client):
    created = api_client.post(URL, {"url": "https://example.com/hook", "event_types": ["campaign.*"]}, format="json")
    assert created.status_code == 201
    subscription = created.json()["webhook_subscription"]
    assert subscription["secret"].startswith("whsec_")
    listed = api_client.get(URL).json()
    assert listed["total"] == 1 and "secret" not in listed["webhook_subscriptions"][0]
    one = api_client.get(f"{URL}/{subscription['subscription_id']}").json()["webhook_subscription"]
    assert one["event_types"] == ["campaign.*"]


def test_invalid_bodies_are_400_and_change_nothing(api_client):
    for body in ({"url": "ftp://example.com"}, {"url": "https://example.com", "event_types": ["Bad Type"]}, {}):
        response = api_client.post(URL, body, format="json")
        assert response.status_code == 400 and response.json()["error_code"] == "INVALID_REQUEST"
    assert not WebhookSubscription.objects.exists()


def test_reenabling_resets_the_failure_count_and_delete_removes(api_client, org):
    subscription = WebhookSubscription.objects.create(
        organization=org, url="https://example.com/h", is_active=False, consecutive_failures=20
    )
    response = api_client.patch(f"{URL}/{subscription.public_id}", {"is_active": True}, format="json")
    assert response.json()["webhook_subscription"]["consecutive_failures"] == 0
    assert api_client.delete(f"{URL}/{subscription.public_id}").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_and_tenancy(api_client, client_for, org, other_org):
    from streams.outbox import outbox_event_record

    subscription = WebhookSubscription.objects.create(organization=org, url="https://example.com/h")
    event = outbox_event_record(organization=org, event_type="campaign.paused", payload={})
    WebhookDelivery.objects.create(subscription=subscription, event=event, next_attempt_at=event.created_at)
    log = api_client.get(f"{URL}/{subscription.public_id}/deliveries").json()
    assert log["total"] == 1 and log["deliveries"][0]["event_type"] == "campaign.paused"
    assert client_for(other_org).get(f"{URL}/{subscription.public_id}").status_code == 404
    assert client_for(org, "analyst").post(URL, {"url": "https://example.com"}, format="json").status_code == 403
