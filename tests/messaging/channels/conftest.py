import itertools

import pytest

from messaging.channels.base import OutgoingMessage

_pks = itertools.count(1)


@pytest.fixture
def outgoing():
    """outgoing(channel_type, **fields): an OutgoingMessage as the dispatcher builds it, with a fresh pk."""

    def make(channel_type: str, recipient: str = "usr_1", **fields) -> OutgoingMessage:
        pk = next(_pks)
        return OutgoingMessage(
            message_pk=pk, public_id=f"msg_{pk:x}", channel_type=channel_type, recipient=recipient, **fields
        )

    return make


@pytest.fixture(autouse=True)
def _fast_http_retries(settings):
    settings.SHOKTI_HTTP_TIMEOUT_SECONDS = 0.5
    settings.SHOKTI_HTTP_MAX_ATTEMPTS = 3
    settings.SHOKTI_HTTP_BACKOFF_SECONDS = 0.01
    settings.SHOKTI_HTTP_BACKOFF_MAX_SECONDS = 0.05
