"""SMS channel: the text body through the HTTP provider API of channels.provider.

The body is measured before any request: a text longer than SMS_MAX_SEGMENTS
segments (GSM-7 or UCS-2, see messaging.sms_encoding) would be billed as that
many messages, so it fails permanently instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage
from messaging.channels.provider import ProviderApi
from messaging.sms_encoding import sms_segments


@dataclass(frozen=True)
class SmsConfig:
    provider: ProviderApi
    sender_id: str
    max_segments: int

    @classmethod
    def from_settings(cls) -> SmsConfig:
        return cls(
            provider=ProviderApi("SMS", settings.SMS_PROVIDER_URL, settings.SMS_PROVIDER_API_KEY),
            sender_id=settings.SMS_SENDER_ID,
            max_segments=int(settings.SMS_MAX_SEGMENTS),
        )


class SmsChannel(Channel):
    kind = "sms"

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        config = SmsConfig.from_settings()
        return [self.report(self._send_one(message, config)) for message in batch]

    def _send_one(self, message: OutgoingMessage, config: SmsConfig) -> Outcome:
        size = sms_segments(message.text)
        if size.segments == 0:
            return Outcome.failed(message, DeliveryError("SMS body is empty", permanent=True))
        if size.segments > config.max_segments:
            error = DeliveryError(
                f"SMS body needs {size.segments} {size.encoding} segments ({size.characters} characters); "
                f"the limit is {config.max_segments}",
                permanent=True,
            )
            return Outcome.failed(message, error)
        body = {"to": message.recipient, "from": config.sender_id, "body": message.text}
        return config.provider.post_message(message, body)
