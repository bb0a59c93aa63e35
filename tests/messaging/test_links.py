import base64
import json

import pytest

from messaging import links
from messaging.models import Message


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.fixture
def message():
    # Links need only the primary key: no database here.
    return Message(pk=0x1A2B)


def test_each_link_kind_round_trips_to_its_message(message):
    target = "https://shop.example.com/offer?code=EID&utm_source=email#top"

    assert links.open_url(message).startswith("https://go.example.com/t/o/")
    assert links.click_url(message, target).startswith("https://go.example.com/t/c/")
    assert links.unsubscribe_url(message).startswith("https://go.example.com/u/")
    assert links.read_open_token(token_of(links.open_url(message))) == message.pk
    assert links.read_click_token(token_of(links.click_url(message, target))) == (message.pk, target)
    assert links.read_unsubscribe_token(token_of(links.unsubscribe_url(message))) == message.pk


def test_tokens_are_url_safe_and_compact(message):
    long_target = "https://shop.example.com/" + "deals/" * 60
    for url in (links.open_url(message), links.unsubscribe_url(message), links.click_url(message, long_target)):
        token = token_of(url)
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.")
    assert len(token_of(links.open_url(message))) < 60
    assert len(token_of(links.click_url(message, long_target))) < len(long_target)


def test_links_follow_the_public_url_setting(message, settings):
    settings.SHOKTI_PUBLIC_URL = "https://example.org/shokti"

    assert links.unsubscribe_url(message).startswith("https://example.org/shokti/u/")


def changed_character(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize("index", [0, 3, -1, -10])
def test_a_changed_character_is_rejected(message, index):
    token = token_of(links.click_url(message, "https://example.com/"))

    with pytest.raises(links.InvalidLinkToken):
        links.read_click_token(changed_character(token, index))


@pytest.mark.parametrize("token", ["", "nonsense", "a:b", ":", "MjY:", "MjY:" + "A" * 43])
def test_malformed_tokens_are_rejected(token):
    for read in (links.read_open_token, links.read_click_token, links.read_unsubscribe_token):
        with pytest.raises(links.InvalidLinkToken):
            read(token)


def test_a_token_of_one_purpose_is_rejected_for_another(message):
    open_token = token_of(links.open_url(message))
    unsubscribe_token = token_of(links.unsubscribe_url(message))
    click_token = token_of(links.click_url(message, "https://example.com/"))

    for read, token in [
        (links.read_unsubscribe_token, open_token),
        (links.read_click_token, open_token),
        (links.read_open_token, unsubscribe_token),
        (links.read_click_token, unsubscribe_token),
        (links.read_open_token, click_token),
        (links.read_unsubscribe_token, click_token),
    ]:
        with pytest.raises(links.InvalidLinkToken):
            read(token)


def test_a_click_token_whose_url_was_swapped_is_rejected(message):
    token = token_of(links.click_url(message, "https://example.com/"))
    _, signature = token.rsplit(":", 1)
    forged = base64.urlsafe_b64encode(json.dumps([message.pk, "https://evil.example"]).encode()).decode().rstrip("=")

    with pytest.raises(links.InvalidLinkToken):
        links.read_click_token(f"{forged}:{signature}")


@pytest.mark.parametrize(
    "target", ["javascript:alert(1)", "mailto:a@example.com", "//evil.example/", "/relative", "ftp://example.com/"]
)
def test_only_http_targets_can_be_tracked(message, target):
    with pytest.raises(ValueError):
        links.click_url(message, target)


def test_list_unsubscribe_headers_offer_one_click(message):
    headers = links.list_unsubscribe_headers(message)

    assert headers == {
        "List-Unsubscribe": f"<{links.unsubscribe_url(message)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_list_unsubscribe_adds_the_mailto_when_configured(message, settings):
    settings.SHOKTI_UNSUBSCRIBE_MAILTO = "unsubscribe@example.com"

    value = links.list_unsubscribe_headers(message)["List-Unsubscribe"]

    assert value == (
        f"<{links.unsubscribe_url(message)}>, <mailto:unsubscribe@example.com?subject=unsubscribe%20msg_1a2b>"
    )
