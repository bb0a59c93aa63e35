"""WhatsApp channel: a text, or an approved template with its variables, through channels.provider.

Outside the 24-hour window after a customer's last message WhatsApp only
delivers approved templates, so a message with a template_id is always sent as
one; its variables come from `metadata["template_variables"]`.
"""

from __future__ import annotations

from django.conf import settings

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage
from messaging.channels.provider import ProviderApi


class WhatsAppChannel(Channel):
    kind = "whatsapp"

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        provider = ProviderApi("WhatsApp", settings.WHATSAPP_PROVIDER_URL, settings.WHATSAPP_PROVIDER_API_KEY)
        return [self._send_one(message, provider) for message in batch]

    def _send_one(self, message: OutgoingMessage, provider: ProviderApi) -> Outcome:
        if message.template_id:
            variables = message.metadata.get("template_variables") or {}
            body = {"to": message.recipient, "template_id": message.template_id, "variables": variables}
        elif message.text.strip():
            body = {"to": message.recipient, "body": message.text}
        else:
            return Outcome.failed(
                message, DeliveryError("WhatsApp message has no body and no template", permanent=True)
            )
        return provider.post_message(message, body)
