import pytest
from django.test import Client

from audiences.models import Suppression
from messaging import links
from messaging.models import Message
from messaging.tracking_views import TRANSPARENT_GIF
from tests.factories import MessageFactory

S = Message.Status


def path_of(url: str) -> str:
    return url.removeprefix("https://go.example.com")


def tampered(url: str) -> str:
    index = len(url) - 5
    return url[:index] + ("A" if url[index] != "A" else "B") + url[index + 1 :]


def unchanged(message: Message) -> bool:
    fresh = Message.objects.get(pk=message.pk)
    return (fresh.status, fresh.opened_at, fresh.clicked_at, fresh.unsubscribed_at) == (
        message.status,
        message.opened_at,
        message.clicked_at,
        message.unsubscribed_at,
    )


# --- open pixel ------------------------------------------------------------------


def test_the_pixel_is_an_uncached_transparent_gif_that_records_the_open(client, message):
    response = client.get(path_of(links.open_url(message)))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == TRANSPARENT_GIF
    assert "no-store" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    message.refresh_from_db()
    assert (message.status, message.opened_at is not None) == (S.OPENED, True)


def test_a_head_request_on_the_pixel_records_nothing(client, message):
    response = client.head(path_of(links.open_url(message)))

    assert response.status_code == 200
    assert unchanged(message)


def test_a_tampered_pixel_token_is_404_and_records_nothing(client, message):
    response = client.get(path_of(tampered(links.open_url(message))))

    assert response.status_code == 404
    assert unchanged(message)


def test_the_pixel_of_a_deleted_message_still_answers(client, message):
    url = links.open_url(message)
    message.delete()

    assert client.get(path_of(url)).status_code == 200


# --- clicks --------------------------------------------------------------------


def test_a_click_redirects_to_the_target_and_records_click_and_open(client, message):
    target = "https://shop.example.com/offer?code=EID"

    response = client.get(path_of(links.click_url(message, target)))

    assert response.status_code == 302
    assert response["Location"] == target
    assert response["Referrer-Policy"] == "no-referrer"
    message.refresh_from_db()
    assert message.status == S.CLICKED
    assert message.clicked_at is not None and message.opened_at is not None


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda message: tampered(links.click_url(message, "https://example.com/")), id="changed"),
        pytest.param(lambda message: links.open_url(message).replace("/t/o/", "/t/c/"), id="open-token"),
        pytest.param(lambda message: links.unsubscribe_url(message).replace("/u/", "/t/c/"), id="unsub-token"),
        pytest.param(
            lambda message: (
                links.click_url(message, "https://example.com/").rsplit(":", 1)[0]
                + ":"
                + links.click_url(message, "https://evil.example/").rsplit(":", 1)[1]
            ),
            id="url-swapped",
        ),
    ],
)
def test_a_forged_click_token_never_redirects_and_records_nothing(client, message, forge):
    response = client.get(path_of(forge(message)))

    assert response.status_code == 404
    assert not response.has_header("Location")
    assert unchanged(message)


def test_a_signed_non_http_target_is_refused(client, message):
    # A token we signed ourselves, as an older release might have: the scheme is still checked.
    token = links._sign(links.CLICK, [message.pk, "javascript:alert(1)"])

    response = client.get(f"/t/c/{token}")

    assert response.status_code == 404
    assert unchanged(message)


def test_a_click_in_a_bounced_message_still_redirects_but_records_nothing(client, org):
    message = MessageFactory(organization=org, status=S.BOUNCED)

    response = client.get(path_of(links.click_url(message, "https://example.com/")))

    assert response.status_code == 302
    assert unchanged(message)


# --- unsubscribe -----------------------------------------------------------------


def test_the_unsubscribe_page_changes_nothing(client, message):
    response = client.get(path_of(links.unsubscribe_url(message)))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post">' in page
    assert "Unsubscribe from" in page and "আনসাবস্ক্রাইব" in page
    assert "r••••@example.com" in page
    assert not Suppression.objects.exists()
    assert unchanged(message)


def test_posting_the_page_unsubscribes_once(client, message):
    url = path_of(links.unsubscribe_url(message))

    first = client.post(url)
    second = client.post(url)

    assert (first.status_code, second.status_code) == (200, 200)
    assert "You are unsubscribed" in first.content.decode()
    suppression = Suppression.objects.get()
    assert (suppression.organization_id, suppression.channel_type, suppression.address, suppression.reason) == (
        message.organization_id,
        "email",
        "rahim@example.com",
        Suppression.Reason.UNSUBSCRIBED,
    )
    assert suppression.source == "link"
    message.refresh_from_db()
    assert (message.status, message.unsubscribed_at is not None) == (S.UNSUBSCRIBED, True)


def test_rfc_8058_one_click_post_unsubscribes_without_a_csrf_token(message):
    provider = Client(enforce_csrf_checks=True)

    response = provider.post(
        path_of(links.unsubscribe_url(message)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Suppression.objects.get().source == "one_click"
    assert Message.objects.get(pk=message.pk).status == S.UNSUBSCRIBED


def test_an_unsubscribe_covers_the_address_for_the_whole_organization(client, org, message):
    other_campaign_message = MessageFactory(organization=org, sent=True, recipient_address="rahim@example.com")

    client.post(path_of(links.unsubscribe_url(message)))
    client.post(path_of(links.unsubscribe_url(other_campaign_message)))

    assert Suppression.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_invalid_unsubscribe_link_is_a_404_page_that_changes_nothing(client, message, method):
    response = getattr(client, method)(path_of(tampered(links.unsubscribe_url(message))))

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert not Suppression.objects.exists()
    assert unchanged(message)


def test_an_open_token_cannot_unsubscribe(client, message):
    response = client.post(path_of(links.open_url(message)).replace("/t/o/", "/u/"))

    assert response.status_code == 404
    assert not Suppression.objects.exists()
