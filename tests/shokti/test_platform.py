import email
from pathlib import Path

import pytest
from django.core import mail
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db


def test_health_reports_a_connected_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == "shokti"
    assert body["database"] == "connected"
    assert body["version"] and body["timestamp"].endswith("Z")


def test_health_is_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("shokti.health.connection.cursor", unreachable)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_readiness_checks_database_broker_and_cache(client):
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "healthy",
        "broker": "healthy",
        "cache": "healthy",
    }


def test_readiness_is_503_when_the_broker_is_down(client, monkeypatch):
    from shokti.celery import app

    # Celery reads CELERY_BROKER_URL from the environment before its own settings.
    nothing_listens = "redis://127.0.0.1:1/0"
    monkeypatch.setenv("CELERY_BROKER_URL", nothing_listens)
    monkeypatch.setitem(app.conf, "broker_url", nothing_listens)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "unhealthy"
    assert response.json()["checks"]["database"]["status"] == "healthy"


def test_metrics_exposes_http_database_and_cache_families(client):
    client.get("/health")
    client.get("/health/ready")
    text = client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_db_execute_total" in text
    assert "django_cache_get_total" in text


def test_openapi_schema_and_offline_docs(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me" in document["paths"]
    assert "bearerAuth" in document["components"]["securitySchemes"]

    for page in ("/docs", "/redoc"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn" not in html.lower()


def test_admin_login_is_branded(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "Shokti" in response.content.decode()


def test_the_mailbox_backend_writes_one_eml_file_per_message(settings, tmp_path):
    settings.EMAIL_BACKEND = "shokti.mail.MailboxBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    mail.send_mail("প্রথম", "body one", "from@example.com", ["a@example.com"])
    mail.send_mail("Second", "body two", "from@example.com", ["b@example.com"])
    files = sorted(Path(settings.EMAIL_FILE_PATH).glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(path.read_bytes()) for path in files]
    assert {message["To"] for message in parsed} == {"a@example.com", "b@example.com"}
    assert not list(Path(settings.EMAIL_FILE_PATH).glob("*.part"))
