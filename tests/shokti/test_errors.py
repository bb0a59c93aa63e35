import uuid

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.shokti.urls")]

ENVELOPE_KEYS = {
    "status",
    "error",
    "error_code",
    "error_message",
    "details",
    "correlation_id",
    "request_id",
    "timestamp",
}


def assert_envelope(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= ENVELOPE_KEYS, body
    assert body["status"] == "error"
    assert body["error_code"] == code
    assert body["correlation_id"] == body["request_id"] == response["X-Correlation-ID"]
    assert body["timestamp"].endswith("Z")
    return body


def test_unknown_api_path_is_a_json_404(api_client):
    assert_envelope(api_client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")


def test_unknown_internal_path_is_a_json_404(client):
    assert_envelope(client.get("/internal/no-such-job"), 404, "NOT_FOUND")


def test_missing_object_is_a_json_404(api_client):
    assert_envelope(api_client.get(f"/api/v1/test-contacts/{uuid.uuid4()}"), 404, "NOT_FOUND")


def test_pages_outside_the_api_keep_html_404s(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_a_json_405_with_allow(api_client):
    response = api_client.delete("/api/v1/me")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


def test_wrong_method_on_a_plain_django_view_is_a_json_405(client):
    response = client.post("/health")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")


def test_unhandled_exception_is_a_json_500_without_internals(api_client, settings):
    settings.DEBUG = False
    body = assert_envelope(api_client.get("/api/v1/test-explode"), 500, "INTERNAL_ERROR")
    assert "boom" not in body["error_message"]


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/v1/test-strict", data='{"booking_cadence_days": ', content_type="application/json")
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert "Malformed" in body["error_message"]


def test_validation_error_lists_each_field_with_location_and_type(api_client):
    response = api_client.post("/api/v1/test-strict", {"booking_cadence_days": 3}, format="json")
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["error"] == "Validation error"
    assert body["details"]["errors"] == [
        {
            "loc": ["body", "booking_cadence_days"],
            "msg": "Ensure this value is greater than or equal to 7.",
            "type": "greater_than_equal",
        }
    ]
    assert body["error_message"].startswith("booking_cadence_days:")


def test_views_may_answer_validation_errors_with_422(api_client):
    response = api_client.post("/api/v1/test-unprocessable", {}, format="json")
    body = assert_envelope(response, 422, "INVALID_REQUEST")
    assert body["details"]["errors"][0]["type"] == "missing"


def test_application_errors_keep_their_status_and_code(api_client):
    body = assert_envelope(api_client.post("/api/v1/test-rule"), 409, "INVALID_STATE_TRANSITION")
    assert body["error_message"] == "Cannot pause a draft campaign."
