"""Helpers for the Notify tests: offered campaigns with in-app content, contacts with engagement."""

from datetime import datetime

import pytest
from django.utils import timezone

from audiences.models import Contact
from campaigns import notify
from campaigns.models import Campaign, Channel
from tests.factories import ExecutionFactory, MessageFactory


@pytest.fixture(autouse=True)
def _fresh_matrices(settings):
    # The matrices are per process; a rolled-back test must not leave one for the next.
    settings.NOTIFY_MATRIX_CHECK_SECONDS = 0
    notify._matrices.clear()
    yield
    notify._matrices.clear()


def offered_campaign(org, name: str, *, body: str = "", status: str = "active", **fields) -> Campaign:
    campaign = Campaign.objects.create(
        organization=org, name=name, campaign_type="triggered", status=status, created_by="tester", **fields
    )
    Channel.objects.create(campaign=campaign, channel_type="in_app", in_app_title=name, in_app_body=body or name)
    return campaign


def engaged(contact: Contact, campaign: Campaign, *, clicked_at: datetime | None = None, **fields):
    """A sent message of `campaign` to `contact`, opened (and clicked when `clicked_at`)."""
    now = timezone.now()
    execution = ExecutionFactory(campaign=campaign)
    return MessageFactory(
        organization=contact.organization, campaign=campaign, execution=execution, contact=contact,
        channel_type="in_app", channel=campaign.channels.first(), status="clicked" if clicked_at else "opened",
        sent_at=now, opened_at=fields.pop("opened_at", now), clicked_at=clicked_at, **fields,
    )  # fmt: skip
