import pytest

from campaigns.models import Campaign, CampaignAudience, Channel
from shokti.models import Role
from tests.campaigns.conftest import in_future

pytestmark = pytest.mark.django_db


def test_create_answers_201_with_the_draft_campaign(api_client, new_year_body):
    response = api_client.post("/api/v1/campaigns", new_year_body, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Campaign created successfully"
    campaign = body["campaign"]
    assert campaign["campaign_id"].startswith("cmp_")
    assert (campaign["name"], campaign["status"], campaign["campaign_type"]) == (
        "New Year Promotion 2026", "draft", "scheduled",
    )  # fmt: skip
    assert campaign["created_at"].endswith("Z")
    assert campaign["audiences"][0]["segment_id"] == "seg_premium_users"
    assert campaign["audiences"][0]["audience_id"].startswith("aud_")
    assert campaign["channels"][0]["channel_id"].startswith("chn_")
    assert campaign["holdout_percentage"] == 5


def test_get_one_shows_parts_and_metrics(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    body = api_client.get(f"/api/v1/campaigns/{campaign_id}").json()["campaign"]
    assert {"audiences", "channels", "variants", "triggers", "metrics"} <= set(body)
    assert body["metrics"]["sent"] == 0


def test_list_filters_by_status_type_search_and_tags(api_client, create, new_year_body, triggered_body):
    scheduled = create({**new_year_body, "tags": ["promo", "q1"]})
    create(triggered_body)
    assert api_client.get("/api/v1/campaigns").json()["total"] == 2
    only_triggered = api_client.get("/api/v1/campaigns?type=triggered").json()
    assert [c["campaign_type"] for c in only_triggered["campaigns"]] == ["triggered"]
    assert api_client.get("/api/v1/campaigns?status=running").json()["total"] == 0
    assert (
        api_client.get("/api/v1/campaigns?search=new%20year").json()["campaigns"][0]["campaign_id"]
        == scheduled["campaign_id"]
    )
    assert api_client.get("/api/v1/campaigns?tags=promo").json()["total"] == 1
    assert api_client.get("/api/v1/campaigns?tags=promo,missing").json()["total"] == 0
    assert api_client.get("/api/v1/campaigns?created_after=2000-01-01T00:00:00Z").json()["total"] == 2


def test_list_paginates(api_client, create, triggered_body):
    for number in range(3):
        create({**triggered_body, "name": f"Campaign {number}"})
    page = api_client.get("/api/v1/campaigns?limit=2&offset=0").json()
    assert (len(page["campaigns"]), page["total"], page["has_more"]) == (2, 3, True)
    last = api_client.get("/api/v1/campaigns?limit=2&offset=2").json()
    assert (len(last["campaigns"]), last["has_more"]) == (1, False)


def test_list_queries_do_not_grow_with_campaigns(api_client, create, triggered_body, django_assert_max_num_queries):
    for number in range(10):
        create({**triggered_body, "name": f"Campaign {number}"})
    with django_assert_max_num_queries(8):
        assert api_client.get("/api/v1/campaigns?limit=100").status_code == 200


def test_patch_changes_a_draft(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    later = in_future(days=41)
    response = api_client.patch(
        f"/api/v1/campaigns/{campaign_id}",
        {"name": "New Year Promotion 2026 - Updated", "scheduled_at": later},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["campaign"]["name"] == "New Year Promotion 2026 - Updated"


def test_delete_is_a_soft_delete(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    assert api_client.delete(f"/api/v1/campaigns/{campaign_id}").status_code == 204
    assert api_client.get(f"/api/v1/campaigns/{campaign_id}").status_code == 404
    assert Campaign.objects.get(public_id=campaign_id).deleted_at is not None


def test_add_variant_with_its_channel(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    response = api_client.post(
        f"/api/v1/campaigns/{campaign_id}/variants",
        {"name": "Variant B - Free Shipping", "allocation_percentage": 50,
         "channels": [{"channel_type": "email", "email_subject": "Free Shipping for You, {{first_name}}!",
                       "email_body_text": "Free shipping."}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    variant = response.json()["variant"]
    assert variant["variant_id"].startswith("var_")
    assert variant["channels"][0]["variant_id"] == variant["variant_id"]
    listing = api_client.get(f"/api/v1/campaigns/{campaign_id}/variants").json()
    assert listing["total"] == 1


def test_parts_are_crud_sub_resources(api_client, create, triggered_body):
    campaign_id = create(triggered_body)["campaign_id"]
    base = f"/api/v1/campaigns/{campaign_id}"
    trigger_id = api_client.get(f"{base}/triggers").json()["triggers"][0]["trigger_id"]
    changed = api_client.patch(f"{base}/triggers/{trigger_id}", {"frequency_limit": 3}, format="json")
    assert changed.status_code == 200 and changed.json()["trigger"]["frequency_limit"] == 3
    channel = api_client.post(
        f"{base}/channels", {"channel_type": "in_app", "in_app_title": "Hi", "in_app_body": "Welcome"}, format="json"
    )
    assert channel.status_code == 201
    channel_id = channel.json()["channel"]["channel_id"]
    assert api_client.get(f"{base}/channels/{channel_id}").status_code == 200
    assert api_client.delete(f"{base}/channels/{channel_id}").status_code == 204
    assert not Channel.objects.filter(public_id=channel_id).exists()
    assert api_client.get(f"{base}/channels/chn_missing").status_code == 404


def test_parts_of_a_running_campaign_cannot_change(api_client, create, new_year_body):
    campaign = Campaign.objects.get(public_id=create(new_year_body)["campaign_id"])
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    response = api_client.post(
        f"/api/v1/campaigns/{campaign.public_id}/audiences",
        {"segment_type": "exclude", "segment_query": []},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert CampaignAudience.objects.filter(campaign=campaign).count() == 1


def test_preview_renders_a_channel_for_a_sample_contact(api_client, create, new_year_body, org):
    from tests.factories import ContactFactory

    ContactFactory(organization=org, external_id="usr_456", first_name="Karim")
    campaign_id = create(new_year_body)["campaign_id"]
    response = api_client.post(
        f"/api/v1/campaigns/{campaign_id}/preview",
        {"channel_type": "email", "sample_user_id": "usr_456"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    content = response.json()["content"]
    assert content["email_subject"] == "Happy New Year, Karim!"
    assert content["email_body_html"] == "<html><body>Hi Karim</body></html>"


def test_preview_escapes_contact_data_in_html(api_client, create, new_year_body, org):
    from tests.factories import ContactFactory

    ContactFactory(organization=org, external_id="usr_x", first_name="<script>x</script>")
    campaign_id = create(new_year_body)["campaign_id"]
    content = api_client.post(
        f"/api/v1/campaigns/{campaign_id}/preview", {"channel_type": "email", "sample_user_id": "usr_x"}, format="json"
    ).json()["content"]
    assert "<script>" not in content["email_body_html"]
    assert "&lt;script&gt;" in content["email_body_html"]


def test_preview_of_an_unknown_user_is_user_not_found(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    response = api_client.post(
        f"/api/v1/campaigns/{campaign_id}/preview", {"channel_type": "email", "sample_user_id": "nobody"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "USER_NOT_FOUND"


def test_metrics_answers_seed_004_shape(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    body = api_client.get(f"/api/v1/campaigns/{campaign_id}/metrics").json()
    assert body["campaign_id"] == campaign_id
    assert body["metrics"]["total"]["sent"] == 0


def test_executions_list_is_empty_for_a_new_campaign(api_client, create, new_year_body):
    campaign_id = create(new_year_body)["campaign_id"]
    body = api_client.get(f"/api/v1/campaigns/{campaign_id}/executions").json()
    assert (body["executions"], body["total"]) == ([], 0)


# --- scoping and roles -------------------------------------------------------------------------


def test_another_organizations_campaign_is_404_everywhere(api_client, client_for, other_org, triggered_body):
    theirs = client_for(other_org).post("/api/v1/campaigns", triggered_body, format="json").json()["campaign"]
    campaign_id = theirs["campaign_id"]
    assert api_client.get(f"/api/v1/campaigns/{campaign_id}").status_code == 404
    assert api_client.post(f"/api/v1/campaigns/{campaign_id}/activate").status_code == 404
    assert api_client.get(f"/api/v1/campaigns/{campaign_id}/triggers").status_code == 404
    assert api_client.patch(f"/api/v1/campaigns/{campaign_id}", {"name": "x"}, format="json").status_code == 404
    assert api_client.get("/api/v1/campaigns").json()["total"] == 0
    assert Campaign.objects.get(public_id=campaign_id).status == "draft"


def test_analysts_read_campaigns_but_cannot_change_them(client_for, org, create, triggered_body):
    campaign_id = create(triggered_body)["campaign_id"]
    analyst = client_for(org, Role.ANALYST)
    assert analyst.get(f"/api/v1/campaigns/{campaign_id}").status_code == 200
    assert analyst.post("/api/v1/campaigns", triggered_body, format="json").status_code == 403
    assert analyst.post(f"/api/v1/campaigns/{campaign_id}/activate").status_code == 403
    assert analyst.delete(f"/api/v1/campaigns/{campaign_id}").status_code == 403
    assert Campaign.objects.get(public_id=campaign_id).status == "draft"


def test_campaign_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in [
        "/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}", "/api/v1/campaigns/{campaign_id}/schedule",
        "/api/v1/campaigns/{campaign_id}/activate", "/api/v1/campaigns/{campaign_id}/pause",
        "/api/v1/campaigns/{campaign_id}/resume", "/api/v1/campaigns/{campaign_id}/cancel",
        "/api/v1/campaigns/{campaign_id}/clone", "/api/v1/campaigns/{campaign_id}/metrics",
        "/api/v1/campaigns/{campaign_id}/preview", "/api/v1/campaigns/{campaign_id}/variants",
        "/api/v1/campaigns/{campaign_id}/audiences/estimate", "/api/v1/campaigns/{campaign_id}/executions",
    ]:  # fmt: skip
        assert any(p.rstrip("/") == path for p in paths), path


def test_audience_estimate_answers_seed_004_shape(api_client, create, new_year_body, org):
    from audiences.models import Segment
    from tests.campaigns.engine import bulk_contacts

    bulk_contacts(org, 30, attributes={"plan": "premium"})
    bulk_contacts(org, 10, attributes={"plan": "premium"}, locale="en")
    bulk_contacts(org, 5, attributes={"plan": "free"})
    Segment.objects.create(organization=org, public_id="seg_english", name="English",
                           conditions=[{"field": "locale", "operator": "eq", "value": "en"}])  # fmt: skip
    body = {**new_year_body, "holdout_percentage": 10,
            "audiences": [{"segment_type": "include", "segment_id": "seg_premium_users"},
                          {"segment_type": "exclude", "segment_id": "seg_english"}]}  # fmt: skip
    campaign_id = create(body)["campaign_id"]
    response = api_client.post(f"/api/v1/campaigns/{campaign_id}/audiences/estimate")
    assert response.status_code == 200, response.json()
    estimate = response.json()
    assert estimate["estimated_size"] == 40
    assert estimate["by_segment"] == [{"segment_id": "seg_premium_users", "size": 40}]
    assert estimate["after_exclusions"] == 30
    assert estimate["after_holdout"] == 27
    assert estimate["estimated_at"].endswith("Z")


def test_manual_run_answers_202_with_the_execution(
    api_client, create, new_year_body, django_capture_on_commit_callbacks
):
    campaign_id = create(new_year_body)["campaign_id"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client.post(f"/api/v1/campaigns/{campaign_id}/executions", HTTP_IDEMPOTENCY_KEY="run-1")
        again = api_client.post(f"/api/v1/campaigns/{campaign_id}/executions", HTTP_IDEMPOTENCY_KEY="run-1")
    assert response.status_code == 202, response.json()
    execution = response.json()["execution"]
    assert execution["execution_id"].startswith("exe_") and execution["execution_type"] == "manual"
    assert again.json()["execution"]["execution_id"] == execution["execution_id"]
    assert len(queued) == 1
    assert api_client.get(f"/api/v1/campaigns/{campaign_id}").json()["campaign"]["status"] == "running"


def test_a_triggered_campaign_cannot_be_run_by_hand(api_client, create, triggered_body):
    campaign_id = create(triggered_body)["campaign_id"]
    response = api_client.post(f"/api/v1/campaigns/{campaign_id}/executions")
    assert response.status_code == 409
