from datetime import timedelta

import pytest
from django.utils import timezone

from audiences.models import Contact
from shokti.models import Role
from tests.factories import ContactFactory, EventFactory

pytestmark = pytest.mark.django_db

BODY = {
    "external_id": "usr_1",
    "email": "rahim@example.com",
    "phone": "+8801711000000",
    "first_name": "Rahim",
    "last_name": "Ahmed",
    "consent": {"email": True, "sms": False},
    "attributes": {"plan": "premium", "age": 34},
}


def test_create_answers_201_with_the_wrapped_contact_and_defaults(api_client, org):
    response = api_client.post("/api/v1/contacts", BODY, format="json")
    assert response.status_code == 201
    contact = response.json()["contact"]
    assert contact["external_id"] == "usr_1"
    assert contact["locale"] == "bn"
    assert contact["timezone"] == "Asia/Dhaka"  # the organization's
    assert contact["consent"] == {"marketing": True, "email": True, "sms": False}
    assert contact["attributes"] == {"plan": "premium", "age": 34}
    assert contact["created_at"].endswith("Z")
    stored = Contact.objects.get(organization=org, external_id="usr_1")
    assert stored.timezone == ""  # follows the organization's if it changes


def test_a_duplicate_external_id_is_400_with_the_envelope(api_client):
    api_client.post("/api/v1/contacts", BODY, format="json")
    response = api_client.post("/api/v1/contacts", BODY, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_REQUEST"
    assert body["details"]["errors"][0]["loc"] == ["body", "external_id"]
    assert body["details"]["errors"][0]["type"] == "unique"


def test_the_same_external_id_is_fine_in_another_organization(api_client, other_org):
    ContactFactory(organization=other_org, external_id="usr_1")
    assert api_client.post("/api/v1/contacts", BODY, format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"external_id": ""}, ["body", "external_id"]),
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"timezone": "Mars/Olympus"}, ["body", "timezone"]),
        ({"locale": "bengali language"}, ["body", "locale"]),
        ({"phone": "call me"}, ["body", "phone"]),
        ({"consent": {"fax": True}}, ["body", "consent"]),
        ({"consent": {"sms": "yes"}}, ["body", "consent"]),
        ({"attributes": ["plan"]}, ["body", "attributes"]),
        ({"attributes": {"a.b": 1}}, ["body", "attributes"]),
    ],
)
def test_invalid_bodies_are_400_at_the_field(api_client, change, loc):
    response = api_client.post("/api/v1/contacts", {**BODY, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] == "INVALID_REQUEST"
    assert [error["loc"] for error in response.json()["details"]["errors"]] == [loc]


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/v1/contacts", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_REQUEST"


def test_get_patch_and_delete_by_external_id(api_client, org):
    ContactFactory(organization=org, external_id="user.42@shop", attributes={"plan": "free", "city": "Dhaka"})
    url = "/api/v1/contacts/user.42@shop"
    assert api_client.get(url).json()["contact"]["external_id"] == "user.42@shop"

    response = api_client.patch(
        url,
        {"first_name": "Karim", "consent": {"sms": False}, "attributes": {"plan": "plus", "city": None}},
        format="json",
    )
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["first_name"] == "Karim"
    assert contact["consent"] == {"marketing": True, "sms": False}
    assert contact["attributes"] == {"plan": "plus"}

    response = api_client.patch(url, {"timezone": "Europe/London"}, format="json")
    assert response.json()["contact"]["timezone"] == "Europe/London"
    response = api_client.patch(url, {"timezone": None}, format="json")
    assert response.json()["contact"]["timezone"] == "Asia/Dhaka"

    assert api_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404


def test_external_id_cannot_change_and_put_is_not_offered(api_client, org):
    ContactFactory(organization=org, external_id="usr_9")
    response = api_client.patch("/api/v1/contacts/usr_9", {"external_id": "usr_10"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["errors"][0]["loc"] == ["body", "external_id"]
    assert api_client.put("/api/v1/contacts/usr_9", BODY, format="json").status_code == 405


def test_events_that_came_first_are_linked_on_creation(api_client, org):
    event = EventFactory(contact=None, organization=org, user_id="usr_1")
    api_client.post("/api/v1/contacts", BODY, format="json")
    event.refresh_from_db()
    assert event.contact.external_id == "usr_1"


def test_another_organizations_contact_is_404_everywhere(api_client, other_org):
    ContactFactory(organization=other_org, external_id="theirs")
    assert api_client.get("/api/v1/contacts/theirs").status_code == 404
    assert api_client.patch("/api/v1/contacts/theirs", {"first_name": "x"}, format="json").status_code == 404
    response = api_client.delete("/api/v1/contacts/theirs")
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    assert Contact.objects.filter(external_id="theirs").exists()
    assert api_client.get("/api/v1/contacts").json()["total"] == 0


def test_analysts_read_but_cannot_write(client_for, org):
    ContactFactory(organization=org, external_id="usr_1")
    analyst = client_for(org, Role.ANALYST)
    assert analyst.get("/api/v1/contacts").status_code == 200
    assert analyst.get("/api/v1/contacts/usr_1").status_code == 200
    for response in (
        analyst.post("/api/v1/contacts", {**BODY, "external_id": "usr_2"}, format="json"),
        analyst.patch("/api/v1/contacts/usr_1", {"first_name": "x"}, format="json"),
        analyst.delete("/api/v1/contacts/usr_1"),
        analyst.post("/api/v1/contacts/import", b"external_id\nusr_3\n", content_type="text/csv"),
    ):
        assert response.status_code == 403
        assert response.json()["error_code"] == "FORBIDDEN"
    assert Contact.objects.count() == 1


def test_a_request_without_a_token_is_401(client):
    assert client.get("/api/v1/contacts").status_code == 401


def test_list_paginates_with_the_envelope(api_client, org, django_assert_max_num_queries):
    for number in range(25):
        ContactFactory(organization=org, external_id=f"usr_{number:02d}")
    with django_assert_max_num_queries(5):
        first = api_client.get("/api/v1/contacts?limit=10").json()
    assert (first["total"], first["limit"], first["offset"], first["has_more"]) == (25, 10, 0, True)
    assert len(first["contacts"]) == 10
    last = api_client.get("/api/v1/contacts?limit=10&offset=20").json()
    assert (len(last["contacts"]), last["has_more"]) == (5, False)
    seen = {contact["external_id"] for page in (first, last) for contact in page["contacts"]}
    assert len(seen) == 15
    assert api_client.get("/api/v1/contacts?limit=500").json()["limit"] == 100


def test_filters(api_client, org):
    ContactFactory(organization=org, external_id="a1", email="nusrat@example.com", first_name="Nusrat", locale="bn")
    ContactFactory(organization=org, external_id="a2", email="tanvir@example.com", first_name="Tanvir", locale="en")
    old = ContactFactory(organization=org, external_id="a3", email="old@example.com", first_name="Old", locale="en")
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

    def ids(query):
        response = api_client.get(f"/api/v1/contacts?{query}")
        assert response.status_code == 200, response.json()
        return {contact["external_id"] for contact in response.json()["contacts"]}

    assert ids("search=NUSRAT") == {"a1"}
    assert ids("search=tanvir@") == {"a2"}
    assert ids("locale=en") == {"a2", "a3"}
    cutoff = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"created_after={cutoff}") == {"a1", "a2"}
    assert ids(f"created_before={cutoff}") == {"a3"}
    assert ids(f"locale=en&created_after={cutoff}") == {"a2"}
    assert api_client.get("/api/v1/contacts?created_after=yesterday").status_code == 400


def test_contacts_appear_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/contacts/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/contacts/{external_id}/"])
    imports = paths["/api/v1/contacts/import/"]["post"]
    assert {"multipart/form-data", "text/csv"} <= set(imports["requestBody"]["content"])
    listed = paths["/api/v1/contacts/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "contacts" in schema["components"]["schemas"][listed["$ref"].rsplit("/", 1)[1]]["properties"]
