"""The campaign admin page's link to the analysts' pages, with the headline numbers.

Two ways to wire it, neither needing campaigns/ to import analytics/:

* nothing to do for the stock change form: analytics ships
  `admin/campaigns/campaign/change_form.html`, which Django's admin picks up
  for the Campaign change page and which shows this summary above the form;
* a console that overrides that template itself adds
  `{% load analytics_admin %}{% campaign_analytics original %}` where it wants
  the summary; a `readonly_fields` entry can call `campaign_analytics_summary`.
"""

from django.urls import reverse
from django.utils.html import format_html

from analytics.aggregation import counter_sums, metrics_body


def campaign_headline(campaign) -> dict:
    """Seed 004's total block for one campaign, from its counters (one grouped query)."""
    return metrics_body(counter_sums(campaign).get((), {}))


def campaign_analytics_summary(campaign) -> str:
    """A short HTML line: sent, delivery, open, click and conversion rates, and a link to the campaign's page."""
    if campaign is None or campaign.pk is None:
        return ""
    headline = campaign_headline(campaign)
    return format_html(
        '<a href="{}">Analytics</a>: {} sent · {} delivered · {} opened · {} clicked · {} converted',
        reverse("analytics:campaign", args=[campaign.public_id]),
        headline["sent"],
        *(f"{headline[rate]:.1%}" for rate in ("delivery_rate", "open_rate", "click_rate", "conversion_rate")),
    )
