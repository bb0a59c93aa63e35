"""WhatsApp channel: a text, or an approved template with its variables, through channels.provider.

Outside the 24-hour window after a customer's last message WhatsApp delivers
only approved templates, so a message with a template_id is always sent as one;
its variables come from `metadata["template_variables"]`.
"""

from __future__ import annotations

from django.conf import settings

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage
from messaging.channels.provider import ProviderApi

# WhatsApp rejects a longer text body; refusing it here saves a request and names the reason.
MAX_BODY_CHARACTERS = 4096


class WhatsAppChannel(Channel):
    kind = "whatsapp"

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        provider = ProviderApi("WhatsApp", settings.WHATSAPP_PROVIDER_URL, settings.WHATSAPP_PROVIDER_API_KEY)
        return [self.report(self._send_one(message, provider)) for message in batch]

    def _send_one(self, message: OutgoingMessage, provider: ProviderApi) -> Outcome:
        try:
            body = self._body(message)
        except DeliveryError as error:
            return Outcome.failed(message, error)
        return provider.post_message(message, body)

    def _body(self, message: OutgoingMessage) -> dict:
        if message.template_id:
            variables = message.metadata.get("template_variables") or {}
            if not isinstance(variables, dict):
                raise DeliveryError("WhatsApp template_variables must be an object", permanent=True)
            return {"to": message.recipient, "template_id": message.template_id, "variables": variables}
        if not message.text.strip():
            raise DeliveryError("WhatsApp message has no body and no template", permanent=True)
        if len(message.text) > MAX_BODY_CHARACTERS:
            raise DeliveryError(
                f"WhatsApp body has {len(message.text)} characters; the limit is {MAX_BODY_CHARACTERS}", permanent=True
            )
        return {"to": message.recipient, "body": message.text}
