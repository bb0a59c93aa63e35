import itertools

import pytest

from campaigns.models import Campaign, Execution
from messaging.models import Message

_runs = itertools.count(1)


@pytest.fixture
def message_for():
    """message_for(contact, channel_type="in_app", **fields): a Message row in a campaign run of the contact's org.

    Each call is a run of its own, so one contact can have many messages on a channel.
    """
    campaigns = {}

    def make(contact, channel_type: str = "in_app", **fields) -> Message:
        organization = contact.organization
        if organization.pk not in campaigns:
            campaigns[organization.pk] = Campaign.objects.create(
                organization=organization, name="Reminders", campaign_type="scheduled", created_by="test"
            )
        campaign = campaigns[organization.pk]
        execution = Execution.objects.create(
            campaign=campaign, execution_type="manual", occurrence_key=f"run-{next(_runs)}"
        )
        return Message.objects.create(
            organization=organization, campaign=campaign, execution=execution, contact=contact,
            channel_type=channel_type, **fields,
        )  # fmt: skip

    return make
