import itertools

import pytest

from campaigns.models import Campaign, Execution
from messaging.models import Message
from messaging.signals import message_event
from tests.factories import MessageFactory

_runs = itertools.count(1)


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.SHOKTI_PUBLIC_URL = "https://go.example.com"
    settings.SHOKTI_UNSUBSCRIBE_MAILTO = ""


@pytest.fixture
def message(org):
    """An email the dispatcher has sent."""
    return MessageFactory(organization=org, sent=True, contact__email="Rahim@Example.com")


@pytest.fixture
def message_events():
    """The (event_type, message pk, payload) of every message_event sent during the test."""
    received = []

    def receiver(sender, event_type, message, payload, **kwargs):
        received.append((event_type, message.pk, payload))

    message_event.connect(receiver, weak=False)
    yield received
    message_event.disconnect(receiver)


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
