"""The send journal: a worker's record of every message a provider accepted, written as it happens.

Outcomes reach the database once per batch (no query per message). If a
worker dies mid-batch, its rows stay `sending`; the sweeper then reads the
journals to tell the rows that were accepted (settled as sent) from those that
were not (queued again), so no contact gets a message twice and none is lost.
Each line is one unbuffered append: it survives the process being killed.
In a multi-host deployment `SHOKTI_DATA_DIR/journal` is a shared volume.
"""

import os
import socket
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings


def journal_dir() -> Path:
    path = Path(settings.SHOKTI_DATA_DIR) / "journal"
    path.mkdir(parents=True, exist_ok=True)
    return path


class SendJournal:
    """This process's journal file (one per process, so appends never interleave)."""

    def __init__(self):
        # A random part too: a later process reusing this pid must not truncate a dead one's lines.
        self.pid = os.getpid()
        self.path = journal_dir() / f"{socket.gethostname()}-{self.pid}-{uuid.uuid4().hex[:8]}.log"
        self._fd: int | None = None

    def _descriptor(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return self._fd

    def accepted(self, message_pk: int, provider_message_id: str) -> None:
        os.write(self._descriptor(), f"{message_pk}\t{provider_message_id}\n".encode())

    def settled(self) -> None:
        """The batch's outcomes are in the database: the journal can start afresh."""
        os.ftruncate(self._descriptor(), 0)


_journal: SendJournal | None = None


def current() -> SendJournal:
    global _journal
    if _journal is None or _journal.pid != os.getpid():
        _journal = SendJournal()
    return _journal


def accepted_among(message_pks: Iterable[int]) -> dict[int, str]:
    """Of these rows, the ones some journal says were accepted, with their provider ids."""
    wanted = set(message_pks)
    found: dict[int, str] = {}
    for path in journal_dir().glob("*.log"):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                pk, _, provider_id = line.rstrip("\n").partition("\t")
                if pk.isdigit() and int(pk) in wanted:
                    found[int(pk)] = provider_id
    return found
