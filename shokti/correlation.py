"""The correlation id of the work in progress: one HTTP request or one task run."""

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Correlation-ID"

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Callers' ids are echoed only when they are safe to put in logs and headers.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def is_well_formed(value: str | None) -> bool:
    return bool(value) and _WELL_FORMED.fullmatch(value) is not None


def new_id() -> str:
    return str(uuid.uuid4())


def get() -> str | None:
    return _current.get()


def get_or_new() -> str:
    return _current.get() or new_id()


def activate(value: str):
    """Set the current id; returns the token that `deactivate` takes."""
    return _current.set(value)


def deactivate(token) -> None:
    _current.reset(token)
