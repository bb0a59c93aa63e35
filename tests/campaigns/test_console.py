"""The marketers' console, driven through a campaign's whole life with Django's test client."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from audiences.models import Segment
from campaigns.models import Campaign, Execution
from shokti.celery import app as celery_app
from shokti.models import Role
from tests.factories import ContactFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(org, role=Role.MARKETER):
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=org, role=role)
    return user


def inline_management(prefix: str, count: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(count), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def add_form(segment, scheduled_at) -> dict:
    data = {
        "name": "Console campaign", "description": "", "campaign_type": "scheduled", "tags": "[]",
        "schedule_type": "one_time", "scheduled_at_0": scheduled_at.strftime("%Y-%m-%d"),
        "scheduled_at_1": scheduled_at.strftime("%H:%M:%S"), "cron_expression": "", "timezone": "Asia/Dhaka",
        "holdout_percentage": "0", "auto_winner_confidence": "0.95", "auto_winner_min_sample": "1000",
        "attribution_window_days": "7", "attribution_model": "last_touch", "metadata": "{}",
        **inline_management("audiences", 1), **inline_management("variants"), **inline_management("channels", 1),
        **inline_management("triggers"),
        "audiences-0-segment_type": "include", "audiences-0-segment": str(segment.pk), "audiences-0-segment_query": "null",
        "channels-0-channel_type": "email", "channels-0-enabled": "on", "channels-0-priority": "0",
        "channels-0-email_subject": "Hello {{ first_name }}", "channels-0-email_body_text": "Hi there",
        "channels-0-webhook_method": "POST", "channels-0-webhook_headers": "{}",
    }  # fmt: skip
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def transition(client, campaign, name, **data):
    return client.post(f"/admin/campaigns/campaign/{campaign.pk}/transition/{name}/", data, follow=True)


def test_a_campaign_lives_its_whole_life_in_the_console(client, org, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    segment = Segment.objects.create(organization=org, name="Everyone", conditions=[])
    ContactFactory(organization=org, external_id="usr_1", first_name="Karim")
    client.force_login(staff(org))

    response = client.post("/admin/campaigns/campaign/add/", add_form(segment, timezone.now() + timedelta(days=2)))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    campaign = Campaign.objects.get(name="Console campaign")
    assert (campaign.organization, campaign.status, campaign.channels.count()) == (org, "draft", 1)

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert "transition/schedule/" in page and "transition/pause/" not in page
    assert "analytics-summary" in page and f"/analytics/campaigns/{campaign.public_id}" in page

    preview = client.get(f"/admin/campaigns/campaign/{campaign.pk}/preview/?contact=usr_1").content.decode()
    assert "Hello Karim" in preview

    assert "Scheduled Console campaign." in messages_of(transition(client, campaign, "schedule"))
    refused = messages_of(transition(client, campaign, "activate"))
    assert any("cannot activate" in message for message in refused)
    transition(client, campaign, "pause")
    assert Campaign.objects.get(pk=campaign.pk).status == "paused"
    transition(client, campaign, "resume")
    assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"

    with django_capture_on_commit_callbacks(execute=True):
        transition(client, campaign, "run_now")
    run = Execution.objects.get(campaign=campaign)
    assert run.status == "completed" and run.messages_sent == 1
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"

    cloned = transition(client, campaign, "clone")
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copy.cloned_from == campaign and copy.status == "draft"
    assert cloned.request["PATH_INFO"].endswith(f"/{copy.pk}/change/")

    transition(client, copy, "cancel", reason="Wrong audience")
    copy.refresh_from_db()
    assert (copy.status, copy.cancelled_reason) == ("cancelled", "Wrong audience")


def test_bulk_actions_report_refusals(client, org):
    client.force_login(staff(org))
    campaign = Campaign.objects.create(organization=org, name="Bare", campaign_type="scheduled", created_by="x")
    response = client.post(
        "/admin/campaigns/campaign/", {"action": "schedule_selected", "_selected_action": [campaign.pk]}, follow=True
    )
    assert any("Bare:" in message for message in messages_of(response))
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    client.post("/admin/campaigns/campaign/", {"action": "cancel_selected", "_selected_action": [campaign.pk]})
    assert Campaign.objects.get(pk=campaign.pk).status == "cancelled"


def test_marketers_see_only_their_organization(client, org, other_org):
    Campaign.objects.create(organization=org, name="Ours", campaign_type="scheduled", created_by="x")
    theirs = Campaign.objects.create(organization=other_org, name="Theirs", campaign_type="scheduled", created_by="x")
    client.force_login(staff(org))
    listing = client.get("/admin/campaigns/campaign/").content.decode()
    assert "Ours" in listing and "Theirs" not in listing
    assert client.get(f"/admin/campaigns/campaign/{theirs.pk}/change/").status_code == 302  # not found → index
    transition(client, theirs, "cancel")
    assert Campaign.objects.get(pk=theirs.pk).status == "draft"


def test_analysts_view_but_cannot_change(client, org):
    campaign = Campaign.objects.create(organization=org, name="Read me", campaign_type="scheduled", created_by="x")
    client.force_login(staff(org, Role.ANALYST))
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.status_code == 200
    assert "transition/" not in page.content.decode()
    transition(client, campaign, "cancel")
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    assert client.get("/admin/campaigns/campaign/add/").status_code == 403
