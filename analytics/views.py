"""The analysts' pages under /analytics/: Django templates, login required, scoped to the user's organization."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from analytics import tables
from analytics.selectors import campaign_for

INTERVALS = ("hour", "day")


def _organization(request):
    membership = getattr(request.user, "membership", None)
    if membership is None:
        raise PermissionDenied("This account belongs to no organization.")
    return membership.organization


@login_required
def overview(request):
    """Every campaign of the organization with its KPIs and a sparkline of daily sends."""
    table, kpis, sparklines = tables.overview(_organization(request))
    return render(request, "analytics/overview.html", {"table": table, "kpis": kpis, "sparklines": sparklines})


@login_required
def campaign(request, campaign_id: str):
    """One campaign: funnel, time series, variants with significance, holdout lift, channels."""
    found = campaign_for(_organization(request), campaign_id)
    interval = request.GET.get("interval", "day")
    if interval not in INTERVALS:
        interval = "day"
    data, campaign_tables = tables.campaign_tables(found, interval=interval)
    chart = {
        "funnel": [[row[0], row[1]] for row in campaign_tables["funnel"].rows],
        "series": campaign_tables["time_series"].rows,
        "channels": [[row[0], row[1], row[2], row[3], row[4]] for row in campaign_tables["channels"].rows],
    }
    return render(request, "analytics/campaign.html", {
        "campaign": found, "metrics": data["metrics"], "tables": campaign_tables, "chart": chart,
        "interval": interval,
    })  # fmt: skip


@login_required
def export(request, table: str, campaign_id: str | None = None):
    """Any table of the pages as CSV."""
    organization = _organization(request)
    if campaign_id is None:
        if table != "campaigns":
            raise Http404("No such table.")
        chosen, filename = tables.overview(organization)[0], "campaigns.csv"
    else:
        found = campaign_for(organization, campaign_id)
        campaign_tables = tables.campaign_tables(found, interval=request.GET.get("interval", "day"))[1]
        if table not in campaign_tables:
            raise Http404("No such table.")
        chosen, filename = campaign_tables[table], f"{found.public_id}-{table}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(chosen.columns)
    writer.writerows(chosen.rows)
    return response
