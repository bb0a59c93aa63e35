import pytest

from messaging.channels.base import get_channel
from messaging.channels.sms import SmsChannel
from tests.servers import Reply

BENGALI_REMINDER = "প্রিয় রহিম, আপনার শেষ হোম ক্লিনিং ২২ দিন আগে ছিল। আজই বুক করুন!"


@pytest.fixture
def provider(settings, http_server):
    settings.SMS_PROVIDER_URL = f"{http_server.url}/sms/v1/"
    settings.SMS_PROVIDER_API_KEY = "sk_sms"
    settings.SMS_SENDER_ID = "Shokti"
    settings.SMS_MAX_SEGMENTS = 6
    return http_server


@pytest.fixture
def sms(outgoing):
    def make(text="Hi Rahim, your cleaning is due.", recipient="+8801712345678"):
        return outgoing("sms", recipient=recipient, text=text)

    return make


def test_the_registry_serves_the_sms_channel():
    assert isinstance(get_channel("sms"), SmsChannel)


def test_it_posts_the_documented_body_with_the_key_and_reference(provider, sms):
    provider.script("/sms/v1/messages", Reply(201, {"id": "SM123"}))
    message = sms(BENGALI_REMINDER)

    [outcome] = SmsChannel().send([message])

    assert outcome.ok and outcome.provider_message_id == "SM123"
    [request] = provider.requests
    assert (request.method, request.path) == ("POST", "/sms/v1/messages")
    assert request.headers["authorization"] == "Bearer sk_sms"
    assert request.headers["idempotency-key"] == message.public_id
    assert request.json() == {
        "to": "+8801712345678",
        "from": "Shokti",
        "body": BENGALI_REMINDER,
        "reference": message.public_id,
    }


def test_each_message_of_a_batch_gets_its_own_outcome(provider, sms):
    provider.script("/sms/v1/messages", Reply(200, {"id": "a"}), Reply(400, {"error": "invalid number"}), Reply(200))
    batch = [sms(), sms(recipient="+1"), sms()]

    outcomes = SmsChannel().send(batch)

    assert [(o.message_pk, o.ok, o.permanent) for o in outcomes] == [
        (batch[0].message_pk, True, False),
        (batch[1].message_pk, False, True),
        (batch[2].message_pk, True, False),
    ]
    assert "invalid number" in outcomes[1].error


def test_a_provider_outage_is_retried_then_transient(provider, sms):
    provider.script("/sms/v1/messages", Reply(503))

    [outcome] = SmsChannel().send([sms()])

    assert not outcome.ok and not outcome.permanent
    assert len(provider.requests) == 3


def test_a_rate_limit_then_success_is_sent(provider, sms):
    provider.script("/sms/v1/messages", Reply(429, headers={"Retry-After": "0"}), Reply(200, {"id": "SM9"}))

    [outcome] = SmsChannel().send([sms()])

    assert outcome.ok and outcome.provider_message_id == "SM9"


def test_a_rejected_key_is_permanent(provider, sms):
    provider.script("/sms/v1/messages", Reply(401, {"message": "bad key"}))

    [outcome] = SmsChannel().send([sms()])

    assert not outcome.ok and outcome.permanent and "bad key" in outcome.error


def test_an_accepted_message_without_an_id_still_counts_as_sent(provider, sms):
    provider.script("/sms/v1/messages", Reply(202, "queued"))

    [outcome] = SmsChannel().send([sms()])

    assert outcome.ok and outcome.provider_message_id == ""


def test_a_body_over_the_segment_limit_fails_before_any_request(provider, sms, settings):
    settings.SMS_MAX_SEGMENTS = 2
    # 3 UCS-2 segments: 135 code units.
    [outcome] = SmsChannel().send([sms("আ" * 135)])

    assert not outcome.ok and outcome.permanent
    assert outcome.error == "SMS body needs 3 UCS-2 segments (135 characters); the limit is 2"
    assert provider.requests == []


def test_the_same_length_in_gsm7_is_within_the_limit(provider, sms, settings):
    settings.SMS_MAX_SEGMENTS = 1

    [outcome] = SmsChannel().send([sms("a" * 135)])

    assert outcome.ok


def test_an_empty_body_or_recipient_fails_permanently(provider, sms):
    outcomes = SmsChannel().send([sms(""), sms(recipient="")])

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, True), (False, True)]
    assert provider.requests == []


@pytest.mark.parametrize("missing", ["SMS_PROVIDER_URL", "SMS_PROVIDER_API_KEY"])
def test_an_unconfigured_provider_is_a_clear_permanent_failure(provider, sms, settings, missing):
    setattr(settings, missing, "")

    [outcome] = SmsChannel().send([sms()])

    assert not outcome.ok and outcome.permanent
    assert outcome.error == "SMS provider not configured"
    assert provider.requests == []


def test_an_unreachable_provider_is_transient(settings, sms):
    settings.SMS_PROVIDER_URL = "http://127.0.0.1:9"
    settings.SMS_PROVIDER_API_KEY = "k"

    [outcome] = SmsChannel().send([sms()])

    assert not outcome.ok and not outcome.permanent
