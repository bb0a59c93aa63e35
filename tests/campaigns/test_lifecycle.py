"""Every transition of the lifecycle, and every refusal leaving the campaign as it was."""

import pytest

from campaigns import lifecycle
from campaigns.events import domain_event
from campaigns.models import Campaign
from tests.campaigns.conftest import in_future

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    received = []

    def receiver(sender, event_type, campaign, payload, **kwargs):
        received.append((event_type, payload))

    domain_event.connect(receiver)
    yield received
    domain_event.disconnect(receiver)


def post(client, campaign_id, action, body=None):
    return client.post(f"/api/v1/campaigns/{campaign_id}/{action}", body or {}, format="json")


def status_of(campaign_id) -> str:
    return Campaign.objects.get(public_id=campaign_id).status


def assert_refused(response, campaign_id, status):
    assert response.status_code == 409, response.json()
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert status_of(campaign_id) == status


def test_scheduled_campaign_goes_draft_scheduled_paused_scheduled_cancelled(
    api_client, create, new_year_body, events, membership
):
    campaign_id = create(new_year_body)["campaign_id"]
    assert events[-1][0] == "campaign.created"

    response = post(api_client, campaign_id, "schedule", {"scheduled_at": in_future(days=30)})
    assert response.status_code == 200, response.json()
    campaign = response.json()["campaign"]
    assert campaign["status"] == "scheduled"
    assert campaign["scheduled_by"] == membership.user.username
    assert events[-1][0] == "campaign.scheduled"

    paused = post(api_client, campaign_id, "pause").json()["campaign"]
    assert (paused["status"], paused["paused_by"]) == ("paused", membership.user.username)
    assert paused["paused_at"]
    assert events[-1][0] == "campaign.paused"

    assert post(api_client, campaign_id, "resume").json()["campaign"]["status"] == "scheduled"
    assert events[-1][0] == "campaign.resumed"

    cancelled = post(api_client, campaign_id, "cancel", {"reason": "Strategy changed"}).json()["campaign"]
    assert (cancelled["status"], cancelled["cancelled_reason"]) == ("cancelled", "Strategy changed")
    assert cancelled["cancelled_by"] == membership.user.username
    assert events[-1] == ("campaign.cancelled", events[-1][1])
    assert events[-1][1]["reason"] == "Strategy changed"


def test_triggered_campaign_goes_draft_active_paused_active(api_client, create, triggered_body, events):
    campaign_id = create(triggered_body)["campaign_id"]
    assert post(api_client, campaign_id, "activate").json()["campaign"]["status"] == "active"
    assert events[-1][0] == "campaign.activated"
    assert post(api_client, campaign_id, "pause").json()["campaign"]["status"] == "paused"
    assert post(api_client, campaign_id, "resume").json()["campaign"]["status"] == "active"


def test_running_campaign_pauses_resumes_to_running_and_completes(create, new_year_body, events):
    campaign = Campaign.objects.get(public_id=create(new_year_body)["campaign_id"])
    lifecycle.campaign_schedule(campaign, actor="tester")
    campaign = lifecycle.campaign_start(campaign, actor="system", execution_id="exe_1", audience_size=10)
    assert campaign.status == "running" and events[-1][0] == "campaign.started"
    campaign = lifecycle.campaign_pause(campaign, actor="tester")
    campaign = lifecycle.campaign_resume(campaign, actor="tester")
    assert campaign.status == "running"
    campaign = lifecycle.campaign_finish(campaign, actor="system", execution_id="exe_1", sent=9, delivered=9)
    assert campaign.status == "completed" and campaign.completed_at
    assert events[-1] == ("campaign.completed", events[-1][1])
    assert events[-1][1]["total_sent"] == 9


def test_a_recurring_campaign_returns_to_scheduled_after_a_run(create, new_year_body):
    body = {**new_year_body, "schedule_type": "recurring", "cron_expression": "0 9 * * 1", "scheduled_at": None}
    campaign = Campaign.objects.get(public_id=create(body)["campaign_id"])
    lifecycle.campaign_schedule(campaign, actor="tester")
    lifecycle.campaign_start(campaign, actor="system", execution_id="exe_1")
    campaign = lifecycle.campaign_finish(campaign, actor="system", execution_id="exe_1", sent=1, delivered=1)
    assert campaign.status == "scheduled"


@pytest.mark.parametrize(
    ("prepare", "action", "status"),
    [
        ([], "resume", "draft"),
        ([], "pause", "draft"),
        (["schedule"], "schedule", "scheduled"),
        (["schedule", "cancel"], "resume", "cancelled"),
        (["schedule", "cancel"], "cancel", "cancelled"),
        (["schedule", "cancel"], "schedule", "cancelled"),
        (["schedule"], "activate", "scheduled"),
    ],
)
def test_forbidden_transitions_of_a_scheduled_campaign_change_nothing(
    api_client, create, new_year_body, prepare, action, status, events
):
    campaign_id = create(new_year_body)["campaign_id"]
    for step in prepare:
        assert post(api_client, campaign_id, step).status_code == 200
    before = Campaign.objects.get(public_id=campaign_id)
    count = len(events)
    assert_refused(post(api_client, campaign_id, action), campaign_id, status)
    after = Campaign.objects.get(public_id=campaign_id)
    assert after.updated_at == before.updated_at
    assert len(events) == count


def test_a_triggered_campaign_cannot_be_scheduled(api_client, create, triggered_body):
    campaign_id = create(triggered_body)["campaign_id"]
    assert_refused(post(api_client, campaign_id, "schedule"), campaign_id, "draft")


def test_completed_campaigns_are_final(create, new_year_body, api_client):
    campaign = Campaign.objects.get(public_id=create(new_year_body)["campaign_id"])
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")
    for action in ("pause", "resume", "cancel", "schedule"):
        assert_refused(post(api_client, campaign.public_id, action), campaign.public_id, "completed")
    response = api_client.patch(f"/api/v1/campaigns/{campaign.public_id}", {"name": "x"}, format="json")
    assert_refused(response, campaign.public_id, "completed")


def test_a_running_campaign_cannot_be_edited_or_deleted(create, new_year_body, api_client):
    campaign = Campaign.objects.get(public_id=create(new_year_body)["campaign_id"])
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    assert_refused(
        api_client.patch(f"/api/v1/campaigns/{campaign.public_id}", {"name": "x"}, format="json"),
        campaign.public_id,
        "running",
    )
    assert_refused(api_client.delete(f"/api/v1/campaigns/{campaign.public_id}"), campaign.public_id, "running")
    assert Campaign.objects.get(pk=campaign.pk).name == campaign.name


def test_clone_copies_every_part_into_a_new_draft(api_client, create, new_year_body, events):
    original = create({**new_year_body, "variants": [
        {"name": "A", "allocation_percentage": 50, "channels": [{"channel_type": "sms", "sms_body": "A {{ first_name }}"}]},
        {"name": "B", "allocation_percentage": 50, "is_control": True},
    ]})  # fmt: skip
    post(api_client, original["campaign_id"], "schedule")
    response = post(api_client, original["campaign_id"], "clone", {"name": "New Year Promotion 2026 - Copy"})
    assert response.status_code == 201
    clone = response.json()["campaign"]
    assert clone["campaign_id"] != original["campaign_id"]
    assert (clone["name"], clone["status"], clone["cloned_from_id"]) == (
        "New Year Promotion 2026 - Copy", "draft", original["campaign_id"],
    )  # fmt: skip
    assert len(clone["audiences"]) == 1 and len(clone["channels"]) == 1
    assert [v["name"] for v in clone["variants"]] == ["A", "B"]
    assert clone["variants"][0]["channels"][0]["sms_body"] == "A {{ first_name }}"
    assert clone["variants"][0]["variant_id"] not in {v["variant_id"] for v in original["variants"]}
    assert status_of(original["campaign_id"]) == "scheduled"
    assert events[-1][1]["cloned_from"] == original["campaign_id"]


def test_allowed_actions_follow_the_state_machine(create, new_year_body):
    campaign = Campaign.objects.get(public_id=create(new_year_body)["campaign_id"])
    assert set(lifecycle.allowed_actions(campaign)) == {"schedule", "cancel", "start", "edit", "delete"}
    campaign.status = "paused"
    assert set(lifecycle.allowed_actions(campaign)) == {"resume", "cancel", "edit", "delete"}
