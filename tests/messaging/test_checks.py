import pytest

from messaging.checks import check_link_settings


def ids() -> list[str]:
    return [message.id for message in check_link_settings()]


def test_the_defaults_pass(settings):
    settings.SHOKTI_PUBLIC_URL = "http://127.0.0.1:8000"
    settings.DEBUG = True

    assert ids() == []


@pytest.mark.parametrize("url", ["go.example.com", "ftp://go.example.com", "https://", "https://go.example.com/?a=1"])
def test_a_public_url_that_cannot_make_links_is_an_error(settings, url):
    settings.SHOKTI_PUBLIC_URL = url

    assert ids() == ["messaging.E001"]


def test_plain_http_in_production_is_a_warning(settings):
    settings.SHOKTI_PUBLIC_URL = "http://go.example.com"
    settings.DEBUG = False

    assert ids() == ["messaging.W001"]


def test_the_mailto_must_be_an_address(settings):
    settings.SHOKTI_UNSUBSCRIBE_MAILTO = "not an address"

    assert ids() == ["messaging.E002"]
