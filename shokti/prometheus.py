"""/metrics for any number of gunicorn worker processes.

Each web process counts its own requests (django-prometheus). Under gunicorn
(gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR) prometheus_client keeps those
counts in per-process files and one scrape adds them up, whichever worker
answers it. The domain families read the database at scrape time instead
(analytics.monitoring, messaging.metrics): they are registered here once and
served in both modes.
"""

import contextlib
import os

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

_database_collectors: list = []


def register_collector(collector) -> None:
    """Registers a collector that reads shared state, so that every mode serves it; once per process."""
    if collector in _database_collectors:
        return
    _database_collectors.append(collector)
    # A second ready() in one process (some test runners) finds it registered already.
    with contextlib.suppress(ValueError):
        REGISTRY.register(collector)


def scrape_registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _database_collectors:
        registry.register(collector)
    return registry


def metrics(request):
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
