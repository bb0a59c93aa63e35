"""Reads on contacts and segments."""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from audiences.csv_io import TEXT_COLUMNS
from audiences.models import Contact, Segment
from audiences.segments import contacts_matching, segment_contacts
from shokti.models import Organization

EXPORT_CHUNK = 2000


def segment_estimate(segment: Segment) -> int:
    """How many contacts the segment holds now: one COUNT in the database."""
    return segment_contacts(segment).count()


def conditions_estimate(*, organization: Organization | int, conditions: Any) -> int:
    """How many contacts unsaved conditions would hold (ApplicationError when they are invalid)."""
    return contacts_matching(organization=organization, conditions=conditions).count()


def contacts_for_export(queryset: QuerySet[Contact]) -> Iterator[Contact]:
    """The contacts with the columns the CSV export writes, fetched in chunks, never all at once."""
    columns = queryset.select_related(None).order_by("external_id")
    columns = columns.only("external_id", *TEXT_COLUMNS, "consent", "attributes")
    return columns.iterator(chunk_size=EXPORT_CHUNK)
