import pytest

from audiences.models import Segment
from campaigns.models import Campaign, CampaignAudience
from shokti.models import Role
from tests.factories import ContactFactory, SegmentFactory

pytestmark = pytest.mark.django_db

PREMIUM = [{"field": "attributes.plan", "operator": "eq", "value": "premium"}]


def test_create_answers_201_with_a_generated_segment_id(api_client, org):
    response = api_client.post(
        "/api/v1/segments", {"name": "Premium", "description": "Paying", "conditions": PREMIUM}, format="json"
    )
    assert response.status_code == 201
    segment = response.json()["segment"]
    assert segment["segment_id"].startswith("seg_")
    assert (segment["name"], segment["description"], segment["conditions"]) == ("Premium", "Paying", PREMIUM)
    assert segment["estimated_size"] is None
    assert Segment.objects.get(organization=org).public_id == segment["segment_id"]


def test_a_segment_id_can_be_chosen_once(api_client):
    body = {"segment_id": "seg_premium_users", "name": "Premium", "conditions": PREMIUM}
    assert api_client.post("/api/v1/segments", body, format="json").status_code == 201
    response = api_client.post("/api/v1/segments", body, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["errors"][0]["loc"] == ["body", "segment_id"]
    bad = api_client.post("/api/v1/segments", {**body, "segment_id": "premium users"}, format="json")
    assert bad.json()["details"]["errors"][0]["loc"] == ["body", "segment_id"]
    frozen = api_client.patch("/api/v1/segments/seg_premium_users", {"segment_id": "seg_other"}, format="json")
    assert frozen.status_code == 400


def test_invalid_conditions_are_400_with_the_path_of_the_bad_node(api_client):
    conditions = [{"any": [PREMIUM[0], {"field": "attributes.plan", "operator": "between", "value": 1}]}]
    response = api_client.post("/api/v1/segments", {"name": "Bad", "conditions": conditions}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_REQUEST"
    assert body["details"]["errors"][0]["loc"] == ["body", "conditions", 0, "any", 1, "operator"]
    assert body["error_message"].startswith("conditions.0.any.1.operator:")
    assert Segment.objects.count() == 0


def test_missing_name_or_conditions_is_400(api_client):
    response = api_client.post("/api/v1/segments", {}, format="json")
    assert response.status_code == 400
    assert {tuple(error["loc"]) for error in response.json()["details"]["errors"]} == {
        ("body", "name"),
        ("body", "conditions"),
    }


def test_estimate_counts_and_stores_the_size(api_client, org, other_org):
    for number in range(3):
        ContactFactory(organization=org, attributes={"plan": "premium" if number else "free"})
    ContactFactory(organization=other_org, attributes={"plan": "premium"})
    segment = SegmentFactory(organization=org, public_id="seg_premium_users", conditions=PREMIUM)

    response = api_client.get("/api/v1/segments/seg_premium_users/estimate")
    assert response.status_code == 200
    body = response.json()
    assert (body["segment_id"], body["estimated_size"]) == ("seg_premium_users", 2)
    assert body["estimated_at"].endswith("Z")
    segment.refresh_from_db()
    assert segment.estimated_size == 2 and segment.estimated_at is not None
    assert api_client.get("/api/v1/segments/seg_premium_users").json()["segment"]["estimated_size"] == 2


def test_changing_conditions_drops_the_stale_estimate(api_client, org):
    SegmentFactory(organization=org, public_id="seg_x", conditions=PREMIUM)
    api_client.get("/api/v1/segments/seg_x/estimate")
    renamed = api_client.patch("/api/v1/segments/seg_x", {"name": "Renamed"}, format="json").json()["segment"]
    assert renamed["estimated_size"] == 0
    changed = api_client.patch("/api/v1/segments/seg_x", {"conditions": []}, format="json").json()["segment"]
    assert changed["estimated_size"] is None
    invalid = api_client.patch("/api/v1/segments/seg_x", {"conditions": [{"field": "x"}]}, format="json")
    assert invalid.status_code == 400


def test_list_delete_and_search(api_client, org):
    for name in ("Active", "Premium", "Lapsed"):
        SegmentFactory(organization=org, name=name, public_id=f"seg_{name.lower()}")
    listing = api_client.get("/api/v1/segments?limit=2").json()
    assert [segment["name"] for segment in listing["segments"]] == ["Active", "Lapsed"]
    assert (listing["total"], listing["has_more"]) == (3, True)
    assert [s["name"] for s in api_client.get("/api/v1/segments?search=prem").json()["segments"]] == ["Premium"]
    assert api_client.delete("/api/v1/segments/seg_lapsed").status_code == 204
    assert api_client.get("/api/v1/segments/seg_lapsed").status_code == 404


def test_another_organizations_segment_is_404(api_client, other_org):
    SegmentFactory(organization=other_org, public_id="seg_theirs")
    for response in (
        api_client.get("/api/v1/segments/seg_theirs"),
        api_client.get("/api/v1/segments/seg_theirs/estimate"),
        api_client.patch("/api/v1/segments/seg_theirs", {"name": "x"}, format="json"),
        api_client.delete("/api/v1/segments/seg_theirs"),
    ):
        assert response.status_code == 404
    assert api_client.get("/api/v1/segments").json()["total"] == 0


def test_the_same_segment_id_is_fine_in_two_organizations(api_client, other_org):
    SegmentFactory(organization=other_org, public_id="seg_premium_users")
    body = {"segment_id": "seg_premium_users", "name": "Premium", "conditions": PREMIUM}
    assert api_client.post("/api/v1/segments", body, format="json").status_code == 201


def test_analysts_read_and_estimate_but_cannot_write(client_for, org):
    SegmentFactory(organization=org, public_id="seg_a")
    analyst = client_for(org, Role.ANALYST)
    assert analyst.get("/api/v1/segments").status_code == 200
    assert analyst.get("/api/v1/segments/seg_a/estimate").status_code == 200
    assert analyst.post("/api/v1/segments", {"name": "x", "conditions": []}, format="json").status_code == 403
    assert analyst.patch("/api/v1/segments/seg_a", {"name": "x"}, format="json").status_code == 403
    assert analyst.delete("/api/v1/segments/seg_a").status_code == 403


def test_a_segment_used_by_a_campaign_cannot_be_deleted(api_client, org):
    segment = SegmentFactory(organization=org, public_id="seg_used")
    campaign = Campaign.objects.create(organization=org, name="C", campaign_type="scheduled", created_by="t")
    CampaignAudience.objects.create(campaign=campaign, segment=segment)
    response = api_client.delete("/api/v1/segments/seg_used")
    assert response.status_code == 400
    assert "used by 1 campaign audience" in response.json()["error_message"]
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_segments_appear_in_the_openapi_schema_with_the_grammar(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "within_last_days" in paths["/api/v1/segments/"]["post"]["description"]
    assert "200" in paths["/api/v1/segments/{segment_id}/estimate/"]["get"]["responses"]
