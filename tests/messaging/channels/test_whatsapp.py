import pytest

from messaging.channels.base import get_channel
from messaging.channels.whatsapp import WhatsAppChannel
from tests.servers import Reply


@pytest.fixture
def provider(settings, http_server):
    settings.WHATSAPP_PROVIDER_URL = http_server.url
    settings.WHATSAPP_PROVIDER_API_KEY = "sk_wa"
    return http_server


def test_the_registry_serves_the_whatsapp_channel():
    assert isinstance(get_channel("whatsapp"), WhatsAppChannel)


def test_it_posts_a_text_message(provider, outgoing):
    provider.script("/messages", Reply(200, {"id": "wamid.1"}))
    message = outgoing("whatsapp", recipient="+8801712345678", text="আপনার বুকিং নিশ্চিত হয়েছে")

    [outcome] = WhatsAppChannel().send([message])

    assert outcome.ok and outcome.provider_message_id == "wamid.1"
    [request] = provider.requests
    assert request.headers["authorization"] == "Bearer sk_wa"
    assert request.headers["idempotency-key"] == message.public_id
    assert request.json() == {
        "to": "+8801712345678",
        "body": "আপনার বুকিং নিশ্চিত হয়েছে",
        "reference": message.public_id,
    }


def test_a_template_message_carries_its_variables_and_no_body(provider, outgoing):
    message = outgoing(
        "whatsapp",
        recipient="+8801712345678",
        text="fallback text",
        template_id="booking_reminder_bn",
        metadata={"template_variables": {"name": "রহিম", "days": 22}, "campaign_id": "cmp_1"},
    )

    [outcome] = WhatsAppChannel().send([message])

    assert outcome.ok
    assert provider.requests[0].json() == {
        "to": "+8801712345678",
        "template_id": "booking_reminder_bn",
        "variables": {"name": "রহিম", "days": 22},
        "reference": message.public_id,
    }


def test_a_message_with_neither_body_nor_template_fails_permanently(provider, outgoing):
    [outcome] = WhatsAppChannel().send([outgoing("whatsapp", recipient="+8801712345678", text="  ")])

    assert not outcome.ok and outcome.permanent
    assert provider.requests == []


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (408, False), (429, False), (500, False)])
def test_provider_errors_map_to_transient_or_permanent(provider, outgoing, status, permanent):
    provider.script("/messages", Reply(status, {"error": "nope"}))

    [outcome] = WhatsAppChannel().send([outgoing("whatsapp", recipient="+8801712345678", text="hi")])

    assert not outcome.ok and outcome.permanent is permanent


def test_an_unconfigured_provider_is_a_clear_permanent_failure(settings, outgoing):
    settings.WHATSAPP_PROVIDER_URL = ""

    [outcome] = WhatsAppChannel().send([outgoing("whatsapp", recipient="+8801712345678", text="hi")])

    assert not outcome.ok and outcome.permanent
    assert outcome.error == "WhatsApp provider not configured"


def test_a_body_over_the_whatsapp_limit_fails_before_any_request(provider, outgoing):
    [outcome] = WhatsAppChannel().send([outgoing("whatsapp", recipient="+8801712345678", text="আ" * 4097)])

    assert not outcome.ok and outcome.permanent
    assert outcome.error == "WhatsApp body has 4097 characters; the limit is 4096"
    assert provider.requests == []


def test_template_variables_that_are_not_an_object_fail_permanently(provider, outgoing):
    message = outgoing(
        "whatsapp", recipient="+8801712345678", template_id="t", metadata={"template_variables": ["রহিম"]}
    )

    [outcome] = WhatsAppChannel().send([message])

    assert not outcome.ok and outcome.permanent
    assert provider.requests == []
