import pytest

from messaging.signals import message_event
from tests.factories import MessageFactory


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
