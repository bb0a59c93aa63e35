import json
import time

import pytest

from messaging.channels.base import get_channel
from messaging.channels.webhook import WebhookChannel, webhook_secret
from shokti.http import verify_signature
from tests.servers import Reply


@pytest.fixture
def hook(outgoing, http_server):
    def make(path="/hook", payload='{"event": "reminder", "name": "রহিম"}', **fields):
        return outgoing("webhook", url=f"{http_server.url}{path}", payload=payload, **fields)

    return make


def test_the_registry_serves_the_webhook_channel():
    assert isinstance(get_channel("webhook"), WebhookChannel)


def test_the_receiver_can_verify_the_signature(hook, http_server, settings):
    settings.SHOKTI_WEBHOOK_SECRET = "whsec_test"
    message = hook()

    [outcome] = WebhookChannel().send([message])

    assert outcome.ok, outcome.error
    [request] = http_server.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"event": "reminder", "name": "রহিম"}
    signature = request.headers["x-shokti-signature"]
    assert signature.startswith(f"t={request.headers['x-shokti-timestamp']},v1=")
    assert verify_signature(request.body, signature, "whsec_test")
    assert not verify_signature(request.body, signature, "another secret")
    assert request.headers["idempotency-key"] == message.public_id


def test_the_default_secret_is_derived_from_the_secret_key_and_stable(settings):
    settings.SHOKTI_WEBHOOK_SECRET = ""
    settings.SECRET_KEY = "one"
    first = webhook_secret()
    assert webhook_secret() == first
    assert len(first) == 64 and "one" not in first

    settings.SECRET_KEY = "two"
    assert webhook_secret() != first


def test_it_sends_custom_headers_but_keeps_its_own(hook, http_server):
    message = hook(
        headers={
            "Authorization": "Token abc",
            "X-Tenant": 42,
            "x-shokti-signature": "forged",
            "content-type": "text/plain",
        }
    )

    [outcome] = WebhookChannel().send([message])

    assert outcome.ok
    [request] = http_server.requests
    assert request.headers["authorization"] == "Token abc"
    assert request.headers["x-tenant"] == "42"
    assert request.headers["content-type"] == "application/json"
    assert verify_signature(request.body, request.headers["x-shokti-signature"], webhook_secret())


@pytest.mark.parametrize("method", ["PUT", "PATCH", "patch"])
def test_it_uses_the_channels_method(hook, http_server, method):
    [outcome] = WebhookChannel().send([hook(method=method)])

    assert outcome.ok
    assert http_server.requests[0].method == method.upper()


def test_a_get_webhook_fails_permanently_without_a_request(hook, http_server):
    [outcome] = WebhookChannel().send([hook(method="GET")])

    assert not outcome.ok and outcome.permanent
    assert http_server.requests == []


def test_it_retries_a_server_error_with_the_same_idempotency_key(hook, http_server):
    http_server.script("/hook", Reply(500), Reply(200))
    message = hook()

    [outcome] = WebhookChannel().send([message])

    assert outcome.ok
    keys = [request.headers["idempotency-key"] for request in http_server.requests_to("/hook")]
    assert keys == [message.public_id, message.public_id]


def test_a_server_error_that_lasts_is_transient(hook, http_server):
    http_server.script("/hook", Reply(503, {"error": "maintenance"}))

    [outcome] = WebhookChannel().send([hook()])

    assert not outcome.ok and not outcome.permanent
    assert "503" in outcome.error and "maintenance" in outcome.error
    assert len(http_server.requests) == 3


def test_a_timeout_is_transient_after_the_retries(hook, http_server, settings):
    settings.SHOKTI_HTTP_TIMEOUT_SECONDS = 0.2
    http_server.script("/hook", Reply(200, delay=0.6))

    [outcome] = WebhookChannel().send([hook()])

    assert not outcome.ok and not outcome.permanent
    assert "Timeout" in outcome.error
    assert len(http_server.requests) == 3


def test_a_client_error_is_permanent_and_not_retried(hook, http_server):
    http_server.script("/hook", Reply(400, {"message": "unknown user"}))

    [outcome] = WebhookChannel().send([hook()])

    assert not outcome.ok and outcome.permanent
    assert "400" in outcome.error and "unknown user" in outcome.error
    assert len(http_server.requests) == 1


@pytest.mark.parametrize("status", [408, 429])
def test_request_timeout_and_rate_limit_are_transient(hook, http_server, status):
    http_server.script("/hook", Reply(status))

    [outcome] = WebhookChannel().send([hook()])

    assert not outcome.ok and not outcome.permanent


def test_an_unreachable_endpoint_is_transient(outgoing):
    message = outgoing("webhook", url="http://127.0.0.1:9/hook", payload="{}")

    [outcome] = WebhookChannel().send([message])

    assert not outcome.ok and not outcome.permanent


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/hook", "not a url", ""])
def test_an_unusable_url_is_permanent(outgoing, url):
    [outcome] = WebhookChannel().send([outgoing("webhook", url=url, payload="{}")])

    assert not outcome.ok and outcome.permanent


@pytest.mark.parametrize("payload", ["", "{not json", "{'single': 'quotes'}"])
def test_a_payload_that_is_not_json_fails_permanently_before_any_request(hook, http_server, payload):
    [outcome] = WebhookChannel().send([hook(payload=payload)])

    assert not outcome.ok and outcome.permanent
    assert "JSON" in outcome.error
    assert http_server.requests == []


def test_a_batch_goes_out_concurrently_and_keeps_its_order(hook, http_server, settings):
    settings.SHOKTI_WEBHOOK_CONCURRENCY = 4
    http_server.script("/slow", Reply(200, delay=0.3))
    http_server.script("/bad", Reply(422))
    batch = [hook("/slow"), hook("/bad"), hook("/slow"), hook("/slow"), hook(payload=json.dumps({"n": 5}))]

    started = time.monotonic()
    outcomes = WebhookChannel().send(batch)

    assert time.monotonic() - started < 0.8
    assert [outcome.message_pk for outcome in outcomes] == [message.message_pk for message in batch]
    assert [outcome.ok for outcome in outcomes] == [True, False, True, True, True]
    assert outcomes[1].permanent
