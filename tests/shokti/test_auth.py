import pytest
from django.core.management import call_command

from audiences.models import Contact
from shokti.models import ApiToken, Role
from tests.factories import ContactFactory, MembershipFactory, issue_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.shokti.urls")]


def test_a_request_without_a_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_is_401(client):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer shk_not-a-real-token")
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHORIZED"


def test_a_non_bearer_scheme_is_401(client, token):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401


def test_a_revoked_token_is_401(client, token):
    ApiToken.objects.get(key_digest=ApiToken.digest(token)).revoke()
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_a_token_of_an_inactive_user_is_401(client, token, membership):
    membership.user.is_active = False
    membership.user.save()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_valid_token_identifies_user_organization_and_role(api_client, membership):
    body = api_client.get("/api/v1/me").json()
    assert body["organization"] == "acme"
    assert body["role"] == "marketer"
    assert body["username"] == membership.user.username


def test_tokens_are_stored_only_as_digests(token):
    stored = ApiToken.objects.get()
    assert token not in {stored.key_digest, stored.key_prefix, stored.name}
    assert stored.key_digest == ApiToken.digest(token)
    assert len(stored.key_prefix) < len(token)


def test_another_organizations_object_is_404_and_lists_exclude_it(api_client, org, other_org):
    mine = ContactFactory(organization=org, external_id="mine")
    theirs = ContactFactory(organization=other_org, external_id="theirs")

    assert api_client.get(f"/api/v1/test-contacts/{mine.pk}").status_code == 200
    assert api_client.get(f"/api/v1/test-contacts/{theirs.pk}").status_code == 404
    assert api_client.delete(f"/api/v1/test-contacts/{theirs.pk}").status_code == 404
    assert Contact.objects.filter(pk=theirs.pk).exists()

    listing = api_client.get("/api/v1/test-contacts").json()
    assert [contact["external_id"] for contact in listing["contacts"]] == ["mine"]
    assert listing["total"] == 1


def test_created_objects_belong_to_the_tokens_organization(api_client, org):
    response = api_client.post(
        "/api/v1/test-contacts", {"external_id": "new", "email": "new@example.com"}, format="json"
    )
    assert response.status_code == 201
    assert Contact.objects.get(external_id="new").organization == org


def test_analysts_read_but_cannot_write(client_for, org):
    analyst = client_for(org, Role.ANALYST)
    assert analyst.get("/api/v1/test-contacts").status_code == 200
    response = analyst.post("/api/v1/test-contacts", {"external_id": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error_code"] == "FORBIDDEN"
    assert not Contact.objects.filter(external_id="x").exists()


def test_list_envelope_paginates_with_limit_and_offset(api_client, org):
    for number in range(5):
        ContactFactory(organization=org, external_id=f"c{number}")
    body = api_client.get("/api/v1/test-contacts?limit=2&offset=2").json()
    assert [c["external_id"] for c in body["contacts"]] == ["c2", "c3"]
    assert (body["total"], body["limit"], body["offset"], body["has_more"]) == (5, 2, 2, True)
    assert api_client.get("/api/v1/test-contacts?limit=1000").json()["limit"] == 100


def test_create_api_token_command_prints_only_a_working_token(client, capsys):
    call_command("create_api_token", "bob", "--org", "neworg", "--role", "analyst")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("shk_") and "\n" not in raw
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert (body["username"], body["organization"], body["role"]) == ("bob", "neworg", "analyst")


def test_rate_limit_per_token_answers_429_with_retry_after(api_client, client, settings, org):
    settings.SHOKTI_API_RATE_LIMIT = "3/minute"
    for _ in range(3):
        assert api_client.get("/api/v1/me").status_code == 200
    response = api_client.get("/api/v1/me")
    assert response.status_code == 429
    assert response.json()["error_code"] == "RATE_LIMITED"
    assert int(response["Retry-After"]) > 0

    # Another token has its own budget.
    other = MembershipFactory(organization=org)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issue_token(other)}").status_code == 200
