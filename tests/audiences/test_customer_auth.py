"""Customers of seed 003: email codes, customer tokens, POST /events and GET /services."""

import re
from datetime import timedelta

import jwt
import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from audiences.models import CustomerOtp, Event
from messaging import deeplinks
from messaging.models import Message
from tests.factories import ContactFactory, MessageFactory, OrganizationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

REQUEST = "/auth/request-otp"
VERIFY = "/auth/verify-otp"
EMAIL = "rahim@example.com"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMARTENGAGE_ORGANIZATION = "demo"


@pytest.fixture
def demo():
    return OrganizationFactory(slug="demo")


@pytest.fixture
def customer(demo):
    return ContactFactory(organization=demo, email="Rahim@Example.com")


@pytest.fixture
def client():
    return APIClient()


def assert_envelope(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["error_code"] == code
    assert body["error_message"]
    assert body["correlation_id"] == body["request_id"] == response["X-Correlation-ID"]
    assert body["timestamp"].endswith("Z")
    return body


def request_code(client, email=EMAIL, **extra) -> str:
    before = len(mail.outbox)
    response = client.post(REQUEST, {"email": email}, format="json", **extra)
    assert response.status_code == 202, response.content
    assert len(mail.outbox) == before + 1
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def verify(client, code: str, email=EMAIL, **extra):
    return client.post(VERIFY, {"email": email, "otp": code}, format="json", **extra)


def sign_in(client, email=EMAIL) -> str:
    response = verify(client, request_code(client, email), email)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


# --- request and verify ---------------------------------------------------------------------------


def test_a_mailed_code_signs_the_customer_in(client, customer):
    code = request_code(client, "RAHIM@example.com ")
    assert mail.outbox[0].to == ["Rahim@Example.com"]
    assert code in mail.outbox[0].subject
    otp = CustomerOtp.objects.get()
    assert otp.contact == customer
    assert code not in otp.code_digest and len(otp.code_digest) == 64
    assert otp.expires_at - otp.created_at == timedelta(minutes=5)

    response = verify(client, code)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(customer.pk)
    assert claims["aud"] == "shokti:customer"
    assert claims["exp"] - claims["iat"] == body["expires_in"]


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, customer):
    known = client.post(REQUEST, {"email": EMAIL}, format="json")
    unknown = client.post(REQUEST, {"email": "nobody@example.com"}, format="json")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [message.to for message in mail.outbox] == [["Rahim@Example.com"]]
    assert not CustomerOtp.objects.filter(email="nobody@example.com").exists()
    assert_envelope(verify(client, "123456", "nobody@example.com"), 401, "UNAUTHORIZED")


def test_a_customer_of_another_organization_is_nobody(client, customer):
    ContactFactory(organization=OrganizationFactory(slug="globex"), email="other@example.com")
    client.post(REQUEST, {"email": "other@example.com"}, format="json")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "email"), ({"email": "not-an-email"}, "email"), ({"email": EMAIL, "otp": "12ab56"}, "otp")],
)
def test_invalid_bodies_are_422(client, customer, body, field):
    path = VERIFY if "otp" in body else REQUEST
    error = assert_envelope(client.post(path, body, format="json"), 422, "INVALID_REQUEST")
    assert error["details"]["errors"][0]["loc"] == ["body", field]


def test_malformed_json_is_400(client):
    response = client.post(REQUEST, "{not json", content_type="application/json")
    assert_envelope(response, 400, "INVALID_REQUEST")


def test_a_wrong_code_costs_a_try(client, customer):
    code = request_code(client)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    body = assert_envelope(verify(client, wrong), 401, "UNAUTHORIZED")
    assert "4 tries left" in body["error_message"]
    assert CustomerOtp.objects.get().attempts == 1
    assert verify(client, code).status_code == 200


def test_five_wrong_codes_kill_the_code(client, customer):
    code = request_code(client)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert_envelope(verify(client, wrong), 401, "UNAUTHORIZED")
    body = assert_envelope(verify(client, code), 401, "UNAUTHORIZED")
    assert "Too many" in body["error_message"]
    assert CustomerOtp.objects.get().attempts == 5


def test_an_expired_code_is_refused(client, customer):
    code = request_code(client)
    CustomerOtp.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_envelope(verify(client, code), 401, "UNAUTHORIZED")
    assert "expired" in body["error_message"]


def test_a_code_signs_in_once(client, customer):
    code = request_code(client)
    assert verify(client, code).status_code == 200
    body = assert_envelope(verify(client, code), 401, "UNAUTHORIZED")
    assert "already used" in body["error_message"]


def test_a_new_code_retires_the_previous_one(client, customer):
    first = request_code(client)
    second = request_code(client)
    if first != second:
        assert_envelope(verify(client, first), 401, "UNAUTHORIZED")
    assert verify(client, second).status_code == 200


def test_requests_are_limited_per_email(client, customer):
    for _ in range(5):
        request_code(client)
    response = client.post(REQUEST, {"email": EMAIL}, format="json", REMOTE_ADDR="10.0.0.9")
    assert_envelope(response, 429, "RATE_LIMITED")
    assert 1 <= int(response["Retry-After"]) <= 900
    assert len(mail.outbox) == 5


def test_unknown_emails_are_limited_alike(client):
    for _ in range(5):
        assert client.post(REQUEST, {"email": "ghost@example.com"}, format="json").status_code == 202
    response = client.post(REQUEST, {"email": "ghost@example.com"}, format="json", REMOTE_ADDR="10.0.0.9")
    assert_envelope(response, 429, "RATE_LIMITED")


def test_requests_are_limited_per_address(client, customer):
    for index in range(5):
        client.post(REQUEST, {"email": f"someone{index}@example.com"}, format="json", REMOTE_ADDR="10.0.0.1")
    response = client.post(REQUEST, {"email": EMAIL}, format="json", REMOTE_ADDR="10.0.0.1")
    assert_envelope(response, 429, "RATE_LIMITED")
    assert int(response["Retry-After"]) >= 1
    assert mail.outbox == []
    request_code(client, REMOTE_ADDR="10.0.0.2")


# --- customer tokens and /events -----------------------------------------------------------------


@pytest.fixture
def signed_in(client, customer):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(client)}")
    return client


def reminder(contact, **fields):
    return MessageFactory(
        organization=contact.organization, contact=contact, agent_type="smartengage", sent=True, **fields
    )


def test_events_need_a_customer_token(client, customer):
    body = {"event_type": "message_clicked", "source": "email"}
    assert_envelope(client.post("/events", body, format="json"), 401, "UNAUTHORIZED")

    deep_link = deeplinks.booking_token(
        customer_id=customer.pk, service_id=None, promo_code=None, ttl_hours=1, message_pk=None
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {deep_link}")
    assert_envelope(client.post("/events", body, format="json"), 401, "UNAUTHORIZED")

    token = sign_in(APIClient())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token[:-2]}xx")
    assert_envelope(client.post("/events", body, format="json"), 401, "UNAUTHORIZED")


def test_an_expired_customer_token_is_refused(client, customer, settings):
    settings.CUSTOMER_TOKEN_TTL_SECONDS = -1
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(APIClient())}")
    response = client.post("/events", {"event_type": "booked", "source": "email"}, format="json")
    assert "expired" in assert_envelope(response, 401, "UNAUTHORIZED")["error_message"]


def test_an_event_answers_the_customers_message(signed_in, customer):
    message = reminder(customer)

    response = signed_in.post(
        "/events", {"event_type": "message_clicked", "source": "email", "message_id": message.public_id}, format="json"
    )

    assert response.status_code == 202
    assert response.json()["message_id"] == message.public_id
    message.refresh_from_db()
    assert message.user_response == "CLICKED"
    event = Event.objects.get(contact=customer)
    assert event.event_type == "message_clicked"
    assert event.properties == {"source": "email", "message_id": message.public_id}


def test_a_weaker_answer_never_hides_a_booking(signed_in, customer):
    message = reminder(customer)
    for event_type in ["booked", "message_clicked", "ignored"]:
        body = {"event_type": event_type, "source": "email", "message_id": message.public_id}
        assert signed_in.post("/events", body, format="json").status_code == 202
    message.refresh_from_db()
    assert message.user_response == "BOOKED"


def test_another_customers_message_is_not_found(signed_in, customer, demo):
    theirs = reminder(ContactFactory(organization=demo))
    for message_id in [theirs.public_id, "msg_fffffff", "garbage"]:
        body = {"event_type": "message_replied", "source": "email", "message_id": message_id}
        assert_envelope(signed_in.post("/events", body, format="json"), 404, "NOT_FOUND")
    theirs.refresh_from_db()
    assert theirs.user_response == ""


def test_seed_001_curl_answers_the_newest_reminder(signed_in, customer, demo):
    older = reminder(customer)
    newest = reminder(customer)
    reminder(ContactFactory(organization=demo))

    # curl -d sends the JSON as a form, with no Content-Type of JSON.
    response = signed_in.post(
        "/events",
        '{"event_type": "message_clicked", "source": "email"}',
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 202, response.content
    assert list(
        Message.objects.filter(pk__in=[older.pk, newest.pk]).order_by("pk").values_list("user_response", flat=True)
    ) == ["", "CLICKED"]


def test_an_event_with_no_message_is_accepted(signed_in):
    response = signed_in.post("/events", {"event_type": "acknowledged", "source": "sms"}, format="json")
    assert response.status_code == 202
    assert response.json()["message_id"] is None


@pytest.mark.parametrize("body", [{"event_type": "opened", "source": "email"}, {"event_type": "booked"}, []])
def test_invalid_events_are_422(signed_in, body):
    assert_envelope(signed_in.post("/events", body, format="json"), 422, "INVALID_REQUEST")


# --- /services ------------------------------------------------------------------------------------


@pytest.fixture
def services(demo):
    return {
        "cleaning": ServiceFactory(organization=demo, name="Home cleaning", category="cleaning", price=1500),
        "plumbing": ServiceFactory(organization=demo, name="Plumbing", category="plumbing", price=800),
        "retired": ServiceFactory(organization=demo, name="Old plumbing", category="plumbing", is_active=False),
        "elsewhere": ServiceFactory(organization=OrganizationFactory(slug="globex"), name="Elsewhere"),
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [service["name"] for service in response.json()["services"]]


def test_services_are_public_and_active_by_default(client, services):
    response = client.get("/services")
    assert names(response) == ["Home cleaning", "Plumbing"]
    first = response.json()["services"][0]
    assert set(first) == {"id", "name", "description", "category", "price", "is_active"}
    assert first["id"] == str(services["cleaning"].id)
    assert first["price"] == 1500
    assert first["is_active"] is True


def test_services_filters(client, services):
    assert names(client.get("/services?include_inactive=true")) == ["Home cleaning", "Old plumbing", "Plumbing"]
    assert names(client.get("/services?category=plumbing")) == ["Plumbing"]
    assert names(client.get("/services?category=plumbing&include_inactive=true")) == ["Old plumbing", "Plumbing"]
    assert names(client.get("/services?category=beauty")) == []


def test_services_with_a_customer_token(signed_in, services):
    assert names(signed_in.get("/services")) == ["Home cleaning", "Plumbing"]


def test_a_bad_token_on_services_is_401(client, services):
    client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert_envelope(client.get("/services"), 401, "UNAUTHORIZED")


def test_wrong_methods_and_paths_answer_in_the_envelope(client):
    assert_envelope(client.get(REQUEST), 405, "METHOD_NOT_ALLOWED")
    assert_envelope(client.post("/services", {}, format="json"), 405, "METHOD_NOT_ALLOWED")
    assert_envelope(client.get("/auth/nothing-here"), 404, "NOT_FOUND")
