import hashlib
import hmac
import time

import httpx2
import pytest

from shokti import http
from tests.servers import Reply


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.SHOKTI_HTTP_TIMEOUT_SECONDS = 0.5
    settings.SHOKTI_HTTP_MAX_ATTEMPTS = 3
    settings.SHOKTI_HTTP_BACKOFF_SECONDS = 0.01
    settings.SHOKTI_HTTP_BACKOFF_MAX_SECONDS = 0.05


def test_it_retries_a_server_error_until_it_succeeds(http_server):
    http_server.script("/flaky", Reply(500), Reply(503), Reply(200, {"ok": True}))

    response = http.request("POST", f"{http_server.url}/flaky", json={"a": 1})

    assert response.status_code == 200
    assert [r.json() for r in http_server.requests_to("/flaky")] == [{"a": 1}] * 3


def test_it_returns_the_last_response_when_attempts_run_out(http_server):
    http_server.script("/down", Reply(502))

    response = http.request("GET", f"{http_server.url}/down")

    assert response.status_code == 502
    assert len(http_server.requests_to("/down")) == 3


def test_it_does_not_retry_a_client_error(http_server):
    http_server.script("/bad", Reply(400, {"error": "no"}))

    assert http.request("POST", f"{http_server.url}/bad", content=b"{}").status_code == 400
    assert len(http_server.requests_to("/bad")) == 1


def test_it_raises_the_timeout_after_retrying_it(http_server):
    http_server.script("/slow", Reply(200, delay=1.0))

    with pytest.raises(httpx2.TimeoutException):
        http.request("GET", f"{http_server.url}/slow")
    assert len(http_server.requests_to("/slow")) == 3


def test_it_retries_a_refused_connection():
    # Nothing listens on port 9 of loopback: every attempt is refused.
    started = time.monotonic()
    with pytest.raises(httpx2.ConnectError):
        http.request("GET", "http://127.0.0.1:9/")
    assert time.monotonic() - started < 2


def test_it_waits_as_long_as_retry_after_asks(http_server, settings):
    settings.SHOKTI_HTTP_BACKOFF_MAX_SECONDS = 1
    http_server.script("/limited", Reply(429, headers={"Retry-After": "1"}), Reply(200))

    assert http.request("GET", f"{http_server.url}/limited").status_code == 200
    first, second = http_server.requests_to("/limited")
    assert second.received_at - first.received_at >= 0.95


def test_it_leaves_a_long_retry_after_to_the_caller(http_server):
    http_server.script("/limited", Reply(429, headers={"Retry-After": "120"}), Reply(200))

    assert http.request("GET", f"{http_server.url}/limited").status_code == 429
    assert len(http_server.requests_to("/limited")) == 1


def test_it_reuses_one_pooled_client_per_process(http_server):
    http.request("GET", f"{http_server.url}/a")
    client = http.client()
    http.request("GET", f"{http_server.url}/b")

    assert http.client() is client
    assert http_server.requests_to("/b")[0].headers["user-agent"].startswith("Shokti/")


def test_a_signature_verifies_within_the_tolerance_window():
    body = b'{"event":"sent"}'
    header = http.sign_payload(body, "s3cret", 1_700_000_000)

    assert header.startswith("t=1700000000,v1=")
    assert http.verify_signature(body, header, "s3cret", now=1_700_000_000 + 299)
    assert not http.verify_signature(body, header, "s3cret", now=1_700_000_000 + 301)
    assert not http.verify_signature(body + b" ", header, "s3cret", now=1_700_000_000)
    assert not http.verify_signature(body, header, "other", now=1_700_000_000)
    assert not http.verify_signature(body, "v1=abc", "s3cret", now=1_700_000_000)


def test_a_signature_is_the_hmac_of_the_timestamp_and_body():
    expected = hmac.new(b"k", b"42.hello", hashlib.sha256).hexdigest()
    assert http.sign_payload(b"hello", "k", 42) == f"t=42,v1={expected}"


def test_either_of_two_secrets_verifies_during_a_rotation():
    body = b"x"
    old = http.sign_payload(body, "old", 100).partition(",v1=")[2]
    new = http.sign_payload(body, "new", 100)
    header = f"{new},v1={old}"

    assert http.verify_signature(body, header, "old", now=100)
    assert http.verify_signature(body, header, "new", now=100)
