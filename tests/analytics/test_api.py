"""GET /api/v1/campaigns/{id}/metrics: rates on a constructed campaign, breakdowns, time series, errors, scoping."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from campaigns.models import Variant
from shokti.models import Role
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ExecutionFactory, MessageFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, 9, 15, tzinfo=UTC)


@pytest.fixture
def constructed(org):
    """20 sent by email (18 delivered, 9 opened, 3 clicked, 2 bounced), 5 SMS sent, 4 skipped (3 holdout)."""
    campaign = CampaignFactory(organization=org)
    a = Variant.objects.create(campaign=campaign, name="A", allocation_percentage=50)
    b = Variant.objects.create(campaign=campaign, name="B", allocation_percentage=50)
    execution = ExecutionFactory(campaign=campaign)
    email, sms = ChannelFactory(campaign=campaign), ChannelFactory(campaign=campaign, channel_type="sms")

    def message(n, **fields):
        contact = ContactFactory(organization=org, phone=f"+88017000000{n:02d}")
        return MessageFactory(organization=org, campaign=campaign, execution=execution, contact=contact,
                              variant=a if n % 2 else b, **fields)  # fmt: skip

    for n in range(20):
        stamps = {"sent_at": T0}
        if n < 18:
            stamps["delivered_at"] = T0 + timedelta(minutes=5)
        else:
            stamps["bounced_at"] = T0 + timedelta(hours=1)
        if n < 9:
            stamps["opened_at"] = T0 + timedelta(hours=2)
        if n < 3:
            stamps["clicked_at"] = T0 + timedelta(days=1)
        message(n, channel=email, status="sent", **stamps)
    for n in range(20, 25):
        message(n, channel=sms, channel_type="sms", status="sent", sent_at=T0)
    for n in range(25, 29):
        message(n, channel=email, status="skipped", skip_reason="holdout" if n < 28 else "no_consent",
                is_holdout=n < 28)  # fmt: skip
    call_command("rebuild_counters")
    return campaign


def test_rates_follow_seed_004(api_client, constructed):
    response = api_client.get(f"/api/v1/campaigns/{constructed.public_id}/metrics")
    assert response.status_code == 200
    body = response.json()
    total = body["metrics"]["total"]
    assert body["campaign_id"] == constructed.public_id
    assert (total["sent"], total["delivered"], total["opened"], total["clicked"], total["bounced"]) == (25, 18, 9, 3, 2)
    assert total["delivery_rate"] == pytest.approx(18 / 25)
    assert total["open_rate"] == pytest.approx(9 / 18)
    assert total["click_rate"] == round(3 / 18, 6)  # rates to 6 places, as seed 004 stores them
    assert total["conversion_rate"] == 0
    assert total["skipped_by_reason"] == {"holdout": 3, "no_consent": 1}
    assert "by_variant" not in body["metrics"] and "time_series" not in body["metrics"]


def test_breakdowns_by_variant_and_channel(api_client, constructed):
    response = api_client.get(f"/api/v1/campaigns/{constructed.public_id}/metrics?breakdown_by=variant,channel")
    metrics = response.json()["metrics"]
    assert metrics["by_channel"]["sms"]["sent"] == 5 and metrics["by_channel"]["email"]["sent"] == 20
    assert sum(v["sent"] for v in metrics["by_variant"].values()) == 25
    assert {v["name"] for v in metrics["by_variant"].values()} == {"A", "B"}


def test_a_time_series_per_hour_and_per_day_within_a_range(api_client, constructed):
    url = f"/api/v1/campaigns/{constructed.public_id}/metrics"
    hourly = api_client.get(url, {"interval": "hour", "from": "2026-01-01T09:00:00Z", "to": "2026-01-01T12:00:00Z"})
    series = hourly.json()["metrics"]["time_series"]
    assert [point["bucket_start"] for point in series] == ["2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z",
                                                           "2026-01-01T11:00:00Z"]  # fmt: skip
    assert [point["opened"] for point in series] == [0, 0, 9]
    assert hourly.json()["metrics"]["total"]["clicked"] == 0  # the clicks fall the next day, outside the range
    daily = api_client.get(url, {"interval": "day"}).json()["metrics"]["time_series"]
    # Skips are bucketed when their rows were written (today), after the two days of sends and clicks.
    assert [(p["bucket_start"], p["clicked"]) for p in daily[:2]] == [
        ("2026-01-01T00:00:00Z", 0),
        ("2026-01-02T00:00:00Z", 3),
    ]


@pytest.mark.parametrize(
    "query",
    ["breakdown_by=segment", "interval=week", "from=yesterday", "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"],
)
def test_bad_parameters_are_400_in_the_envelope(api_client, constructed, query):
    response = api_client.get(f"/api/v1/campaigns/{constructed.public_id}/metrics?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_REQUEST" and body["details"]["errors"]


def test_another_organizations_campaign_is_not_found(client_for, other_org, constructed):
    response = client_for(other_org, Role.ANALYST).get(f"/api/v1/campaigns/{constructed.public_id}/metrics")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_analysts_may_read_and_strangers_may_not(client, client_for, org, constructed):
    assert client_for(org, Role.ANALYST).get(f"/api/v1/campaigns/{constructed.public_id}/metrics").status_code == 200
    response = client.get(f"/api/v1/campaigns/{constructed.public_id}/metrics")
    assert response.status_code == 401 and response.json()["error_code"] == "UNAUTHORIZED"


def test_the_endpoint_reads_counters_not_messages(api_client, constructed, django_assert_max_num_queries):
    with django_assert_max_num_queries(8) as captured:
        api_client.get(f"/api/v1/campaigns/{constructed.public_id}/metrics?breakdown_by=variant,channel&interval=day")
    assert not [q for q in captured.captured_queries if "messaging_message" in q["sql"]]
