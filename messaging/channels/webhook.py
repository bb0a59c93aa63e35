"""Webhook channel: the rendered JSON payload, signed, to the URL the campaign names.

Each request carries `X-Shokti-Signature: t=<ts>,v1=<hex>` (shokti.http.sign_payload
over the exact body), `X-Shokti-Timestamp` and `Idempotency-Key: msg_…`, so a
receiver can check the sender, reject replays and drop a redelivery.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx2
from django.conf import settings
from django.utils.crypto import salted_hmac

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage
from messaging.channels.provider import delivery_error, request_error
from shokti import http

METHODS = frozenset({"POST", "PUT", "PATCH"})
# Ours win over a campaign's custom headers of the same name, whatever its case.
RESERVED_HEADERS = frozenset({"content-type", "x-shokti-signature", "x-shokti-timestamp", "idempotency-key"})


def webhook_secret() -> str:
    """SHOKTI_WEBHOOK_SECRET, else a key derived from SECRET_KEY: the same in every process and after restarts."""
    return (
        settings.SHOKTI_WEBHOOK_SECRET or salted_hmac("shokti.webhook-signature", "v1", algorithm="sha256").hexdigest()
    )


@dataclass(frozen=True)
class WebhookConfig:
    secret: str
    concurrency: int

    @classmethod
    def from_settings(cls) -> WebhookConfig:
        return cls(secret=webhook_secret(), concurrency=max(1, int(settings.SHOKTI_WEBHOOK_CONCURRENCY)))


class WebhookChannel(Channel):
    kind = "webhook"

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        config = WebhookConfig.from_settings()
        if len(batch) < 2:
            return [self.report(self._deliver(message, config)) for message in batch]
        # Endpoints differ per message: threads keep one slow receiver from holding up the rest.
        with ThreadPoolExecutor(max_workers=min(config.concurrency, len(batch)), thread_name_prefix="webhook") as pool:
            return list(pool.map(lambda message: self.report(self._deliver(message, config)), batch))

    def _deliver(self, message: OutgoingMessage, config: WebhookConfig) -> Outcome:
        try:
            response = self._request(message, config)
        except DeliveryError as error:
            return Outcome.failed(message, error)
        except (httpx2.HTTPError, httpx2.InvalidURL) as error:
            return Outcome.failed(message, request_error(error))
        error = delivery_error(response)
        if error is not None:
            return Outcome.failed(message, error)
        return Outcome(message_pk=message.message_pk, ok=True)

    def _request(self, message: OutgoingMessage, config: WebhookConfig) -> httpx2.Response:
        method = (message.method or "POST").upper()
        if method not in METHODS:
            raise DeliveryError(f"Webhook method {method} is not one of POST, PUT, PATCH", permanent=True)
        if not message.url:
            raise DeliveryError("Webhook has no URL", permanent=True)
        try:
            json.loads(message.payload)
        except ValueError as error:
            raise DeliveryError(f"Webhook payload is not valid JSON: {error}", permanent=True) from None
        body = message.payload.encode()
        timestamp = int(time.time())
        # Custom headers come from a JSON field, where a marketer may have typed a number.
        headers = {name: str(value) for name, value in message.headers.items() if name.lower() not in RESERVED_HEADERS}
        headers |= {
            "Content-Type": "application/json",
            "X-Shokti-Signature": http.sign_payload(body, config.secret, timestamp),
            "X-Shokti-Timestamp": str(timestamp),
            "Idempotency-Key": message.public_id,
        }
        try:
            return http.request(method, message.url, content=body, headers=headers)
        except UnicodeEncodeError:
            raise DeliveryError("Webhook header values must be ASCII", permanent=True) from None
