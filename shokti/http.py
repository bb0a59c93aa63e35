"""The one outbound HTTP helper: a shared pooled client, bounded retries and HMAC signatures.

Every call to a provider or a customer's endpoint goes through `request`, so
timeouts, retries and pooling are set once, from settings:

- SHOKTI_HTTP_TIMEOUT_SECONDS: connect, read, write and pool timeout of one attempt;
- SHOKTI_HTTP_MAX_ATTEMPTS: attempts per request, the first included;
- SHOKTI_HTTP_BACKOFF_SECONDS / SHOKTI_HTTP_BACKOFF_MAX_SECONDS: the first wait
  (doubling, plus as much again of random jitter) and the cap on any one wait.

A retry after a read timeout may repeat a request the server did act on, so
callers that POST send an Idempotency-Key for the receiver to drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx2
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception_type, retry_if_result, wait_exponential_jitter

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Network failures where a new attempt may succeed; a bad URL or scheme never will.
RETRYABLE_ERRORS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
SIGNATURE_TOLERANCE_SECONDS = 300

_client_lock = threading.Lock()
_client: httpx2.Client | None = None
_client_pid = 0


@dataclass(frozen=True)
class HttpConfig:
    timeout: float
    attempts: int
    backoff: float
    backoff_max: float

    @classmethod
    def from_settings(cls) -> HttpConfig:
        return cls(
            timeout=float(settings.SHOKTI_HTTP_TIMEOUT_SECONDS),
            attempts=max(1, int(settings.SHOKTI_HTTP_MAX_ATTEMPTS)),
            backoff=float(settings.SHOKTI_HTTP_BACKOFF_SECONDS),
            backoff_max=float(settings.SHOKTI_HTTP_BACKOFF_MAX_SECONDS),
        )


def client() -> httpx2.Client:
    """This process's pooled client, created on first use."""
    global _client, _client_pid
    # A Celery prefork child must not share its parent's sockets: a new pid gets a new pool.
    if _client is None or _client_pid != os.getpid():
        with _client_lock:
            if _client is None or _client_pid != os.getpid():
                _client = httpx2.Client(
                    headers={"User-Agent": f"Shokti/{settings.SHOKTI_VERSION}"},
                    limits=httpx2.Limits(max_connections=100, max_keepalive_connections=20),
                    follow_redirects=False,
                )
                _client_pid = os.getpid()
    return _client


def request(
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    json: object = None,
    headers: Mapping[str, str] | None = None,
) -> httpx2.Response:
    """Sends one request, retrying network errors, timeouts, 408, 429 and 5xx with backoff.

    Returns the last response whatever its status (the caller decides what a 4xx
    means); raises httpx2.HTTPError or httpx2.InvalidURL when no attempt got one.
    """
    config = HttpConfig.from_settings()
    backoff = wait_exponential_jitter(multiplier=config.backoff, max=config.backoff_max, jitter=config.backoff)

    def wait(state: RetryCallState) -> float:
        return max(backoff(state), _retry_after(state) or 0.0)

    def stop(state: RetryCallState) -> bool:
        # A Retry-After beyond our longest wait is left to the caller's own, slower retry.
        return state.attempt_number >= config.attempts or (_retry_after(state) or 0.0) > config.backoff_max

    retrying = Retrying(
        retry=retry_if_exception_type(RETRYABLE_ERRORS) | retry_if_result(_retryable_response),
        wait=wait,
        stop=stop,
        # Out of attempts: hand back the last response, or raise the last error.
        retry_error_callback=lambda state: state.outcome.result(),
    )
    return retrying(client().request, method, url, content=content, json=json, headers=headers, timeout=config.timeout)


def _retryable_response(response: httpx2.Response) -> bool:
    return response.status_code in RETRYABLE_STATUSES


def _retry_after(state: RetryCallState) -> float | None:
    """Seconds the server asked us to wait on a 429, if it said."""
    if state.outcome is None or state.outcome.failed:
        return None
    response: httpx2.Response = state.outcome.result()
    value = response.headers.get("Retry-After", "").strip()
    if response.status_code != 429 or not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def sign_payload(body: bytes, secret: str, timestamp: int) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`, the X-Shokti-Signature header."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    body: bytes, header: str, secret: str, *, tolerance: int = SIGNATURE_TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within `tolerance` seconds of now.

    Several v1 values are accepted so that a secret can be rotated while both are live.
    """
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    # The timestamp is signed too, so an old delivery cannot be replayed outside the window.
    if timestamp is None or abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign_payload(body, secret, timestamp).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
