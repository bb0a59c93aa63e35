"""The HTTP provider API that SMS and WhatsApp speak, and the failure mapping of every HTTP channel.

The contract a provider gateway implements (base URL and key are settings):

    POST {base_url}/messages
    Authorization: Bearer {api_key}
    Content-Type: application/json
    Idempotency-Key: msg_…            the same on a redelivery: drop the duplicate

    SMS       {"to": "+8801…", "from": SMS_SENDER_ID, "body": "…", "reference": "msg_…"}
    WhatsApp  {"to": "+8801…", "body": "…", "reference": "msg_…"}
          or  {"to": "+8801…", "template_id": "…", "variables": {…}, "reference": "msg_…"}

    2xx                      {"id": "<the provider's message id>"}: sent
    408, 429, 5xx, timeouts  transient: retried with backoff (shokti.http), then by the dispatcher
    any other status         permanent: invalid number, rejected content, bad key; the body's
                             "error" or "message" is kept as the reason

Delivery reports come back later through the delivery-events callback, keyed
by the provider id or the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from messaging.channels.base import DeliveryError, Outcome, OutgoingMessage
from shokti import http

TRANSIENT_STATUSES = frozenset({408, 429})


def delivery_error(response: httpx2.Response) -> DeliveryError | None:
    """None for a 2xx answer; else a transient (408, 429, 5xx) or permanent DeliveryError."""
    if response.is_success:
        return None
    permanent = response.status_code < 500 and response.status_code not in TRANSIENT_STATUSES
    return DeliveryError(f"HTTP {response.status_code}: {_reason(response)}", permanent=permanent)


def request_error(error: httpx2.HTTPError | httpx2.InvalidURL) -> DeliveryError:
    """A request that got no answer: a bad URL never will (permanent), a network failure may (transient)."""
    permanent = isinstance(error, httpx2.InvalidURL | httpx2.UnsupportedProtocol)
    return DeliveryError(f"{type(error).__name__}: {error}", permanent=permanent)


def _reason(response: httpx2.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body)[:500]
    return str(body)[:500]


@dataclass(frozen=True)
class ProviderApi:
    """One configured provider: `name` labels its errors ("SMS", "WhatsApp")."""

    name: str
    base_url: str
    api_key: str

    def post_message(self, message: OutgoingMessage, body: dict) -> Outcome:
        """Posts one message; never raises: every failure is a transient or permanent Outcome."""
        if not self.base_url or not self.api_key:
            return Outcome.failed(message, DeliveryError(f"{self.name} provider not configured", permanent=True))
        if not message.recipient:
            return Outcome.failed(message, DeliveryError(f"{self.name} message has no recipient", permanent=True))
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": message.public_id}
        try:
            response = http.request(
                "POST",
                f"{self.base_url.rstrip('/')}/messages",
                json={**body, "reference": message.public_id},
                headers=headers,
            )
        except (httpx2.HTTPError, httpx2.InvalidURL) as error:
            return Outcome.failed(message, request_error(error))
        error = delivery_error(response)
        if error is not None:
            return Outcome.failed(message, error)
        return Outcome(message_pk=message.message_pk, ok=True, provider_message_id=_provider_id(response))


def _provider_id(response: httpx2.Response) -> str:
    # The provider accepted the message: an answer without an id must not turn into a resend.
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("id", "")) if isinstance(body, dict) else ""
