"""The analytics pages in a real headless Chromium (Debian's package), driven by Playwright."""

import shutil
from pathlib import Path

import pytest

from shokti.models import Role
from tests.analytics.test_api import constructed  # noqa: F401 (a fixture)
from tests.factories import MembershipFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def page(live_server, org, client):
    # Playwright runs an event loop in this thread: every database write must happen before it starts.
    sync_api = pytest.importorskip("playwright.sync_api")
    membership = MembershipFactory(organization=org, role=Role.ANALYST)
    client.force_login(membership.user)
    session = client.cookies["sessionid"].value
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.errors = []
        page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()


def drawn_charts(page) -> int:
    page.wait_for_function("document.body.dataset.chartsDrawn !== undefined", timeout=10_000)
    # A canvas Chart.js drew on has non-blank pixels.
    return page.evaluate(
        """() => [...document.querySelectorAll('canvas')].filter(c => {
               const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               return data.some(v => v !== 0);
           }).length"""
    )


def test_the_campaign_page_draws_its_charts_without_console_errors(constructed, page, live_server, tmp_path):  # noqa: F811
    page.goto(f"{live_server.url}/analytics/campaigns/{constructed.public_id}/")
    assert drawn_charts(page) == 3
    page.screenshot(path=tmp_path / "campaign.png", full_page=True)
    assert page.errors == []
    assert (tmp_path / "campaign.png").stat().st_size > 0


def test_the_overview_draws_sparklines_without_console_errors(constructed, page, live_server, tmp_path):  # noqa: F811
    page.goto(f"{live_server.url}/analytics/")
    assert drawn_charts(page) >= 1
    page.screenshot(path=tmp_path / "overview.png", full_page=True)
    assert page.errors == []
