"""The Celery app: workers, beat and every task share the Django settings (CELERY_*)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shokti.settings")

app = Celery("shokti")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_HEADER = "correlation_id"
_tokens: dict[str, object] = {}


@signals.before_task_publish.connect
def _send_correlation_id(headers=None, **kwargs):
    # A task carries the id of the request or task that queued it.
    from shokti import correlation

    if headers is not None and not headers.get(_HEADER):
        headers[_HEADER] = correlation.get_or_new()


@signals.task_prerun.connect
def _receive_correlation_id(task_id=None, task=None, **kwargs):
    from shokti import correlation

    value = getattr(task.request, _HEADER, None) or (task.request.headers or {}).get(_HEADER)
    _tokens[task_id] = correlation.activate(value if correlation.is_well_formed(value) else correlation.new_id())


@signals.task_postrun.connect
def _forget_correlation_id(task_id=None, **kwargs):
    from shokti import correlation

    token = _tokens.pop(task_id, None)
    if token is not None:
        correlation.deactivate(token)


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_unsafe_start(**kwargs):
    from shokti.checks import refuse_unsafe_start

    refuse_unsafe_start()
