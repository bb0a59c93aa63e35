"""The one interface every channel backend implements.

The dispatcher renders each message (templates, tracking links, unsubscribe
URLs) into an OutgoingMessage, hands a batch to the channel's backend and
records the returned outcomes in bulk. A backend never lets a provider
exception escape: it maps each failure to a transient or permanent Outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class DeliveryError(Exception):
    """A failed send; `permanent` failures are not retried (bad address, rejected content)."""

    def __init__(self, message: str, *, permanent: bool = False, bounce_type: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.bounce_type = bounce_type


@dataclass
class OutgoingMessage:
    """A rendered message, ready for its channel."""

    message_pk: int
    public_id: str  # msg_…, also the idempotency key receivers may use
    channel_type: str
    recipient: str  # email address, E.164 phone, or the contact's external id (in-app, webhook)
    subject: str = ""
    html: str = ""
    text: str = ""  # email text part; the body of SMS, WhatsApp and in-app messages
    title: str = ""  # in-app
    action_url: str = ""  # in-app
    icon: str = ""  # in-app
    template_id: str = ""  # WhatsApp template
    sender_name: str = ""
    sender_email: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # extra email or webhook headers
    url: str = ""  # webhook target
    method: str = "POST"  # webhook method
    payload: str = ""  # webhook body (rendered JSON)
    metadata: dict = field(default_factory=dict)  # campaign_id, execution_id, correlation_id…


@dataclass
class Outcome:
    message_pk: int
    ok: bool
    provider_message_id: str = ""
    error: str = ""
    permanent: bool = False
    bounce_type: str = ""

    @classmethod
    def failed(cls, message: OutgoingMessage, error: DeliveryError | Exception) -> Outcome:
        return cls(
            message_pk=message.message_pk,
            ok=False,
            error=str(error)[:2000],
            permanent=getattr(error, "permanent", False),
            bounce_type=getattr(error, "bounce_type", ""),
        )


class Channel:
    """Sends a batch; calls `report` for each message as soon as its outcome is known.

    The dispatcher's `on_outcome` journals every accepted message the moment the
    provider accepts it, so a worker killed mid-batch never causes a resend.
    """

    kind = ""

    def __init__(self, on_outcome: Callable[[Outcome], None] | None = None):
        self.on_outcome = on_outcome

    def report(self, outcome: Outcome) -> Outcome:
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        raise NotImplementedError


DEFAULT_BACKENDS = {
    "email": "messaging.channels.email.EmailChannel",
    "sms": "messaging.channels.sms.SmsChannel",
    "whatsapp": "messaging.channels.whatsapp.WhatsAppChannel",
    "in_app": "messaging.channels.in_app.InAppChannel",
    "webhook": "messaging.channels.webhook.WebhookChannel",
}


@cache
def _backend_class(path: str) -> type[Channel]:
    return import_string(path)


def get_channel(kind: str, on_outcome: Callable[[Outcome], None] | None = None) -> Channel:
    """The configured backend for a channel kind, imported on first use (SHOKTI_CHANNEL_BACKENDS overrides)."""
    paths = {**DEFAULT_BACKENDS, **getattr(settings, "SHOKTI_CHANNEL_BACKENDS", {})}
    return _backend_class(paths[kind])(on_outcome=on_outcome)
