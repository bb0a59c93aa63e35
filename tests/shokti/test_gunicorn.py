"""The production web server: several gunicorn workers behind one /metrics."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "SHOKTI_DATA_DIR": str(tmp_path / "data"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    env.pop("DATABASE_URL", None)  # its own SQLite file: /health and /metrics need no tables
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "shokti.wsgi"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _health_requests(scrape: str) -> float:
    pattern = r'^django_http_requests_total_by_view_transport_method_total\{[^}]*view="health"[^}]*\} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, scrape, re.MULTILINE))


def test_every_scrape_counts_the_requests_of_all_workers(gunicorn):
    # New connections each time, so that both workers take some of them.
    for _ in range(30):
        assert httpx.get(f"{gunicorn}/health", timeout=5).status_code == 200
    # The first readiness probe of the fixture counts too; whichever worker answers a scrape sees all of them.
    seen = {_health_requests(httpx.get(f"{gunicorn}/metrics", timeout=5).text) for _ in range(6)}
    assert len(seen) == 1
    assert seen.pop() >= 31


def test_static_files_are_served_by_the_app_server(gunicorn):
    # DEBUG is on here, so this is the finders' copy; with DEBUG off WhiteNoise serves collectstatic's.
    response = httpx.get(f"{gunicorn}/static/admin/css/base.css", timeout=5)
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]
