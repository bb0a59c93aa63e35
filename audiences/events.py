"""Behavioural event ingestion: validate a batch, resolve its contacts and store it, set-based.

A batch of up to MAX_BATCH events costs a constant number of queries whatever
its size: one validation pass (pydantic, whose errors already have the
`loc`/`msg`/`type` shape of API.md), one lookup of the batch's user ids, one
bulk upsert of unknown contacts when the organization allows it, one lookup of
event ids already stored, and one `bulk_create(ignore_conflicts=True)`. The
unique (organization, event_id) makes a repeated event a no-op even when two
requests race.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from django.db import transaction
from django.utils import timezone
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from audiences.models import Contact, Event
from shokti.models import Organization

MAX_BATCH = 1000
# Clocks drift; an event stamped further ahead than this is a client bug, not a skew.
MAX_FUTURE = timedelta(minutes=10)
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_.:\-]+$")


def _not_far_future(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > timezone.now() + MAX_FUTURE:
        raise ValueError(f"occurred_at is more than {int(MAX_FUTURE.total_seconds() // 60)} minutes in the future")
    return moment


class EventIn(BaseModel):
    """One event as clients send it (API.md): event_id is optional, occurred_at defaults to now."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] | None = None
    event_type: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=EVENT_TYPE.pattern)]
    user_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: Annotated[datetime, AfterValidator(_not_far_future)] | None = None


class Outcome:
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass
class IngestResult:
    """Per-event results in request order, and the event ids stored by this call (to evaluate)."""

    results: list[dict] = field(default_factory=list)
    stored_event_ids: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result["status"] == status)


def _errors(error: ValidationError, loc: tuple) -> list[dict]:
    return [
        {"loc": [*loc, *item["loc"]], "msg": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def events_ingest(*, organization: Organization, items: list[Any], loc: tuple = ("body", "events")) -> IngestResult:
    """Validates and stores a batch; bad events are rejected one by one and never cost the good ones.

    Returns a result per item: accepted (stored now), duplicate (stored before,
    or earlier in this batch) or rejected (with its errors).
    """
    now = timezone.now()
    result = IngestResult(results=[{} for _ in items])
    valid: dict[int, EventIn] = {}
    for index, item in enumerate(items):
        try:
            event = EventIn.model_validate(item)
        except ValidationError as error:
            result.results[index] = {"index": index, "status": Outcome.REJECTED,
                                     "errors": _errors(error, (*loc, index))}  # fmt: skip
            continue
        event.event_id = event.event_id or f"evt_{uuid.uuid4().hex}"
        valid[index] = event

    contacts = _contacts_for(organization, {event.user_id for event in valid.values()})
    with transaction.atomic():
        stored = set(
            Event.objects.filter(organization=organization, event_id__in=[e.event_id for e in valid.values()])
            .values_list("event_id", flat=True)
        )  # fmt: skip
        rows = []
        for index, event in valid.items():
            base = {"index": index, "event_id": event.event_id}
            contact_id = contacts.get(event.user_id)
            if contact_id is None:
                result.results[index] = {**base, "status": Outcome.REJECTED, "errors": [
                    {"loc": [*loc, index, "user_id"], "msg": f"No contact has user_id {event.user_id!r}.",
                     "type": "USER_NOT_FOUND"}]}  # fmt: skip
                continue
            if event.event_id in stored:
                result.results[index] = {**base, "status": Outcome.DUPLICATE}
                continue
            stored.add(event.event_id)
            result.results[index] = {**base, "status": Outcome.ACCEPTED}
            rows.append(Event(organization=organization, event_id=event.event_id, event_type=event.event_type,
                              user_id=event.user_id, contact_id=contact_id, properties=event.properties,
                              occurred_at=event.occurred_at or now))  # fmt: skip
        Event.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    result.stored_event_ids = [row.event_id for row in rows]
    return result


def _contacts_for(organization: Organization, user_ids: set[str]) -> dict[str, uuid.UUID]:
    """external_id → contact id for the batch's users, creating the unknown ones when the organization allows."""
    found = dict(
        Contact.objects.filter(organization=organization, external_id__in=user_ids).values_list("external_id", "id")
    )
    missing = user_ids - found.keys()
    if missing and organization.events_create_contacts:
        Contact.objects.bulk_create(
            [Contact(organization=organization, external_id=user_id) for user_id in missing], ignore_conflicts=True
        )
        found.update(
            Contact.objects.filter(organization=organization, external_id__in=missing).values_list("external_id", "id")
        )
    return found
