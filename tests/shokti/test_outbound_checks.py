from shokti.checks import check_outbound_settings


def test_the_defaults_pass():
    assert check_outbound_settings() == []


def test_numbers_out_of_range_are_errors(settings):
    settings.SHOKTI_HTTP_TIMEOUT_SECONDS = 0
    settings.SMS_MAX_SEGMENTS = 0
    settings.SHOKTI_HTTP_BACKOFF_MAX_SECONDS = 0.5

    messages = check_outbound_settings()

    assert [message.msg for message in messages] == [
        "SHOKTI_HTTP_TIMEOUT_SECONDS is 0; it must be above 0.",
        "SMS_MAX_SEGMENTS is 0; it must be at least 1.",
    ]
    assert {message.id for message in messages} == {"shokti.E003"}


def test_a_half_configured_provider_is_a_warning(settings):
    settings.SMS_PROVIDER_URL = "https://sms.example"
    settings.SMS_PROVIDER_API_KEY = ""
    settings.WHATSAPP_PROVIDER_URL = ""
    settings.WHATSAPP_PROVIDER_API_KEY = "key"

    messages = check_outbound_settings()

    assert [(message.id, message.msg.split()[0]) for message in messages] == [
        ("shokti.W001", "SMS_PROVIDER_API_KEY"),
        ("shokti.W001", "WHATSAPP_PROVIDER_URL"),
    ]
