"""Named locks that hold across processes and machines: the database decides, never process memory.

On PostgreSQL a session-level advisory lock (`pg_try_advisory_lock`), released
when the block ends or the connection dies. SQLite has none, so a lease row
stands in: taken by a conditional write, released by its holder, and taken
over once expired if a holder died without releasing it.
"""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from campaigns.models import JobLease

LEASE = timedelta(hours=1)


def _advisory_key(name: str) -> int:
    # pg advisory keys are signed 64-bit integers.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def try_exclusive(name: str) -> Iterator[bool]:
    """Yields True when this process holds the lock `name` for the block, False when another holds it."""
    if connection.vendor == "postgresql":
        key = _advisory_key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = bool(cursor.fetchone()[0])
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return

    holder, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        held = bool(
            JobLease.objects.filter(name=name, expires_at__lt=now).update(holder=holder, expires_at=now + LEASE)
        )
        if not held:
            try:
                with transaction.atomic():
                    JobLease.objects.create(name=name, holder=holder, expires_at=now + LEASE)
                held = True
            except IntegrityError:
                held = False
    try:
        yield held
    finally:
        if held:
            JobLease.objects.filter(name=name, holder=holder).delete()
