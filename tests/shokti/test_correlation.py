import json
import logging
import uuid

import pytest
from django.conf import settings

from shokti.log import CorrelationIdFilter

pytestmark = pytest.mark.django_db


def test_a_new_uuid4_is_generated_when_none_is_sent(client):
    value = client.get("/health")["X-Correlation-ID"]
    assert uuid.UUID(value).version == 4


def test_a_well_formed_id_is_echoed(client):
    response = client.get("/health", HTTP_X_CORRELATION_ID="bulk-campaign-2026.11_22")
    assert response["X-Correlation-ID"] == "bulk-campaign-2026.11_22"


@pytest.mark.parametrize("bad", ["has spaces", "x" * 200, "line\nbreak", "<script>", ""])
def test_a_malformed_id_is_replaced(client, bad):
    response = client.get("/health", HTTP_X_CORRELATION_ID=bad)
    assert response["X-Correlation-ID"] != bad
    assert uuid.UUID(response["X-Correlation-ID"]).version == 4


def test_error_bodies_carry_the_callers_id(client):
    response = client.get("/api/v1/nothing-here", HTTP_X_CORRELATION_ID="req-42")
    assert response.json()["correlation_id"] == "req-42"


@pytest.mark.urls("tests.shokti.urls")
def test_log_lines_during_a_request_carry_its_id(api_client, caplog):
    with caplog.at_level(logging.ERROR):
        api_client.get("/api/v1/test-explode", HTTP_X_CORRELATION_ID="trace-77")
    records = [record for record in caplog.records if record.getMessage().startswith("Unhandled error")]
    assert records and all(record.correlation_id == "trace-77" for record in records)


def test_production_log_lines_are_json_with_the_correlation_id():
    formatter_config = dict(settings.LOGGING["formatters"]["json"])
    factory = formatter_config.pop("()")
    module, _, name = factory.rpartition(".")
    formatter = getattr(__import__(module, fromlist=[name]), name)(**formatter_config)
    record = logging.LogRecord("shokti.test", logging.INFO, __file__, 1, "sent %s", ("3",), None)
    record.correlation_id = "abc-123"
    CorrelationIdFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert line["message"] == "sent 3"
    assert line["correlation_id"] == "abc-123"
    assert line["level"] == "INFO"


def test_djangos_request_log_takes_the_id_from_the_request(rf):
    request = rf.get("/api/v1/x")
    request.correlation_id = "from-request"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found", (), None)
    record.correlation_id = "-"
    record.request = request
    CorrelationIdFilter().filter(record)
    assert record.correlation_id == "from-request"
