import pytest

from shokti.celery import app as celery_app


@pytest.fixture
def smtp(smtp_server, settings):
    smtp_server.configure(settings)
    return smtp_server


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
