"""Public string ids (`cmp_…`, `var_…`, `exe_…`): time-ordered, unguessable, safe in URLs.

One named function per kind, because migrations record model defaults by import path.
"""

import secrets
import time


def new_public_id(prefix: str) -> str:
    # 11 hex digits of milliseconds keep ids sortable by creation until the year 2527.
    return f"{prefix}_{int(time.time() * 1000):011x}{secrets.token_hex(5)}"


def campaign_id() -> str:
    return new_public_id("cmp")


def audience_id() -> str:
    return new_public_id("aud")


def variant_id() -> str:
    return new_public_id("var")


def channel_id() -> str:
    return new_public_id("chn")


def trigger_id() -> str:
    return new_public_id("trg")


def execution_id() -> str:
    return new_public_id("exe")


def segment_id() -> str:
    return new_public_id("seg")


def schedule_id() -> str:
    return new_public_id("sched")
