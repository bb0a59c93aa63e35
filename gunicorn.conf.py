"""Production web server settings, read by `gunicorn shokti.wsgi` from the working directory.

One worker process per core plus one, since a Python interpreter serves one
core; a few threads in each so that a request waiting on the database or
Redis does not hold the whole process, and so that keep-alive works.
"""

import multiprocessing
import os
import pathlib
import tempfile

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Keep-alive lets API clients and load balancers reuse connections instead of paying a TCP handshake per request.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Each worker imports the app once before forking copies it, so workers start fast and share memory.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None

# Each worker process counts its own requests; prometheus_client's multiprocess mode
# keeps the counts in files that one scrape adds up (shokti.prometheus). Done here,
# before the app is imported, so that every metric the processes create uses the files;
# files of a previous run would be added to this run's counts.
_metrics_dir = pathlib.Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="shokti-metrics-")))
_metrics_dir.mkdir(parents=True, exist_ok=True)
for _stale in _metrics_dir.glob("*.db"):
    _stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
