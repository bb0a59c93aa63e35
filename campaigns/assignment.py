"""Stable assignment of contacts to holdout and variants: a hash of (campaign, contact).

The same formula runs in SQL during resolution (md5 on PostgreSQL, this
function registered on SQLite) and in Python for single contacts.
"""

import hashlib
import uuid

BUCKETS = 10_000  # basis points: allocations have two decimals


def bucket(salt: str, contact_id: uuid.UUID) -> int:
    """The contact's stable bucket in [0, 10000) for a salt; the SQL below computes the same."""
    digest = hashlib.md5(f"{salt}{contact_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % BUCKETS


def sqlite_bucket(salt: str, contact_id_hex: str) -> int:
    # SQLite stores UUIDs as 32 hex digits; hash the dashed form so both databases agree.
    return bucket(salt, uuid.UUID(contact_id_hex))
