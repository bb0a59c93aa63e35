"""The analysts' pages: login, organization scoping, CSV exports; the admin summary; the Prometheus families."""

import csv
import io

import pytest
from django.core.management import call_command
from django.template import Context, Template

from shokti.models import Role
from tests.analytics.test_api import constructed  # noqa: F401 (a fixture)
from tests.factories import CampaignFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(client, org):
    membership = MembershipFactory(organization=org, role=Role.ANALYST)
    client.force_login(membership.user)
    return client


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_pages_need_a_login(client, constructed):  # noqa: F811
    response = client.get("/analytics/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_overview_lists_the_organizations_campaigns_only(analyst, other_org, constructed):  # noqa: F811
    CampaignFactory(organization=other_org, name="Someone else's")
    page = analyst.get("/analytics/").content.decode()
    assert constructed.name in page and "Someone else" not in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "cdn" not in page.lower()


def test_the_campaign_page_shows_funnel_variants_and_channels(analyst, constructed):  # noqa: F811
    response = analyst.get(f"/analytics/campaigns/{constructed.public_id}/")
    assert response.status_code == 200
    tables = response.context["tables"]
    assert [row[:2] for row in tables["funnel"].rows] == [["sent", 25], ["delivered", 18], ["opened", 9],
                                                          ["clicked", 3], ["converted", 0]]  # fmt: skip
    assert {row[0] for row in tables["channels"].rows} == {"email", "sms"}
    assert {row[1] for row in tables["variants"].rows} == {"A", "B"}


def test_another_organizations_campaign_page_is_not_found(analyst, other_org):
    campaign = CampaignFactory(organization=other_org)
    assert analyst.get(f"/analytics/campaigns/{campaign.public_id}/").status_code == 404
    assert analyst.get(f"/analytics/campaigns/{campaign.public_id}/export/funnel.csv").status_code == 404


@pytest.mark.parametrize("table", ["funnel", "time_series", "variants", "channels", "holdout"])
def test_every_campaign_table_exports_as_csv(analyst, constructed, table):  # noqa: F811
    response = analyst.get(f"/analytics/campaigns/{constructed.public_id}/export/{table}.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    page = analyst.get(f"/analytics/campaigns/{constructed.public_id}/")
    expected = page.context["tables"][table]
    assert rows(response)[0] == expected.columns
    assert len(rows(response)) == len(expected.rows) + 1


def test_the_overview_exports_as_csv(analyst, constructed):  # noqa: F811
    exported = rows(analyst.get("/analytics/export/campaigns.csv"))
    assert exported[0][:4] == ["campaign_id", "name", "status", "sent"]
    assert exported[1][0] == constructed.public_id and exported[1][3] == "25"
    assert analyst.get("/analytics/export/nothing.csv").status_code == 404


def test_the_admin_summary_links_to_the_campaign_page(constructed):  # noqa: F811
    html = Template("{% load analytics_admin %}{% campaign_analytics campaign %}").render(
        Context({"campaign": constructed})
    )
    assert f'href="/analytics/campaigns/{constructed.public_id}/"' in html
    assert "25 sent · 72.0% delivered · 50.0% opened" in html


def test_prometheus_families_come_from_the_database(client, constructed):  # noqa: F811
    call_command("rebuild_counters")
    text = client.get("/metrics").content.decode()
    assert 'campaign_messages_sent_total{channel="email",status="sent"} 20.0' in text
    assert 'campaign_messages_sent_total{channel="email",status="delivered"} 18.0' in text
    assert f'campaigns_created_total{{organization="{constructed.organization.slug}",type="scheduled"}} 1.0' in text
    assert "# TYPE campaign_execution_duration_seconds histogram" in text
    assert "# TYPE campaigns_completed_total counter" in text
    assert "# TYPE trigger_evaluations_total counter" in text
