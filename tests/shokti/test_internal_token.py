import pytest

pytestmark = pytest.mark.django_db

URL = "/internal/jobs/status"


@pytest.fixture
def internal_token(settings):
    settings.SHOKTI_INTERNAL_TOKEN = "s3cret-internal"
    return "s3cret-internal"


def test_the_right_internal_token_is_let_in(client, internal_token):
    response = client.get(URL, HTTP_X_INTERNAL_TOKEN=internal_token)
    assert response.status_code == 200
    assert "jobs" in response.json()


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_INTERNAL_TOKEN": "wrong"}, {"HTTP_X_INTERNAL_TOKEN": ""}])
def test_a_missing_or_wrong_internal_token_is_401(client, internal_token, headers):
    response = client.get(URL, **headers)
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHORIZED"


def test_an_api_token_does_not_open_internal_endpoints(client, internal_token, token):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_internal_endpoints_are_open_in_development_without_a_token(client, settings):
    settings.DEBUG = True
    settings.SHOKTI_INTERNAL_TOKEN = ""
    assert client.get(URL).status_code == 200


def test_internal_endpoints_stay_closed_without_a_token_when_debug_is_off(client, settings):
    settings.DEBUG = False
    settings.SHOKTI_INTERNAL_TOKEN = ""
    assert client.get(URL).status_code == 401
