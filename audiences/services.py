"""Writes on contacts, bookings and segments."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, OuterRef, ProtectedError, Subquery
from django.utils import timezone

from audiences import csv_io, selectors
from audiences.models import Booking, Contact, Event, Segment, default_consent
from audiences.segments import validate_conditions
from audiences.validators import validate_attributes
from shokti.errors import ApplicationError
from shokti.models import Organization

IMPORT_BATCH_SIZE = 1000
# After this many new contacts, statistics are refreshed at once rather than at autovacuum's next pass.
ANALYZE_AFTER_CREATED = 10_000
MAX_REPORTED_ERRORS = 1000
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "locale", "timezone", "consent", "attributes")


def _invalid(field_name: str, message: str, kind: str = "invalid") -> ApplicationError:
    return ApplicationError(
        "INVALID_REQUEST",
        f"{field_name}: {message}",
        status=400,
        details={"errors": [{"loc": ["body", field_name], "msg": message, "type": kind}]},
        error="Validation error",
    )


def merge_attributes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict:
    """Attributes after a partial write: keys are replaced one by one and a null value removes its key."""
    merged = {**current, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def _link_events(*, organization: Organization, external_ids: Iterable[str]) -> None:
    # Events may arrive before their contact; they count for segments once linked.
    contact = Contact.objects.filter(organization=organization, external_id=OuterRef("user_id")).values("pk")[:1]
    Event.objects.filter(organization=organization, contact__isnull=True, user_id__in=list(external_ids)).update(
        contact=Subquery(contact)
    )


# --- Contacts --------------------------------------------------------------------------


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    external_id: str,
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    locale: str = "bn",
    timezone: str | None = "",
    consent: Mapping[str, bool] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Contact:
    """Creates a contact; external_id is unique in the organization (400 when taken).

    Consent given is merged into the default (marketing granted); an empty timezone means the organization's.
    """
    contact = Contact(
        organization=organization,
        external_id=external_id,
        email=email,
        phone=phone,
        first_name=first_name,
        last_name=last_name,
        locale=locale,
        timezone=timezone or "",
        consent={**default_consent(), **(consent or {})},
        attributes=merge_attributes({}, attributes or {}),
    )
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError as exc:
        raise _invalid("external_id", f"A contact with external_id {external_id!r} already exists.", "unique") from exc
    _link_events(organization=organization, external_ids=[external_id])
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, changes: Mapping[str, Any]) -> Contact:
    """Applies a partial update: consent and attributes are merged key by key (a null attribute is removed)."""
    for name, value in changes.items():
        if name == "consent":
            value = {**contact.consent, **value}
        elif name == "attributes":
            value = merge_attributes(contact.attributes, value)
            try:
                validate_attributes(value)
            except ValidationError as exc:
                raise _invalid("attributes", exc.messages[0]) from exc
        elif name == "timezone":
            value = value or ""
        elif name not in CONTACT_FIELDS:
            continue
        setattr(contact, name, value)
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    """Deletes a contact and its bookings; its events stay, unlinked."""
    contact.delete()


def contacts_refresh_last_booking(*, contact_ids: Iterable) -> int:
    """Sets last_booking_at to each contact's latest completed booking, in one UPDATE."""
    latest = (
        Booking.objects.filter(contact=OuterRef("pk"), status=Booking.Status.COMPLETED)
        .values("contact")
        .annotate(latest=Max("finished_at"))
        .values("latest")
    )
    return Contact.objects.filter(pk__in=list(contact_ids)).update(last_booking_at=Subquery(latest))


# --- CSV import ------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)

    def fail(self, line: int, errors: list[dict]) -> None:
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": line, "errors": errors})

    def as_dict(self) -> dict:
        return {
            "imported": self.created + self.updated,
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": self.errors,
        }


def contacts_import_csv(
    *, organization: Organization, source: BinaryIO, batch_size: int = IMPORT_BATCH_SIZE
) -> ImportReport:
    """Upserts the contacts of a CSV stream (columns in audiences.csv_io) and reports row by row.

    The file is read one record at a time; valid rows are written in batches,
    each batch in its own transaction, so a bad row never costs a good one and
    a file that breaks halfway keeps what came before. Re-importing updates.
    """
    reader = csv_io.ContactCsvReader(source)
    report = ImportReport()
    batch: dict[str, csv_io.ContactRow] = {}
    for line, row, errors in reader:
        if row is None:
            report.fail(line, errors)
            continue
        # One upsert cannot touch a row twice, so a repeated id starts a new batch.
        if row.external_id in batch or len(batch) >= batch_size:
            _upsert_batch(organization, batch, report)
            batch = {}
        batch[row.external_id] = row
    if batch:
        _upsert_batch(organization, batch, report)
    if report.created >= ANALYZE_AFTER_CREATED and connection.vendor == "postgresql":
        # Planned on stale statistics, a segment over the new contacts can pick
        # nested loops that rescan a subquery per contact.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Contact._meta.db_table}")
    return report


@transaction.atomic
def _upsert_batch(organization: Organization, rows: dict[str, csv_io.ContactRow], report: ImportReport) -> None:
    existing = {
        contact.external_id: contact
        for contact in Contact.objects.filter(organization=organization, external_id__in=list(rows))
    }
    contacts = []
    for external_id, row in rows.items():
        current = existing.get(external_id)
        contact = Contact(
            organization=organization,
            external_id=external_id,
            **({name: getattr(current, name) for name in CONTACT_FIELDS} if current else {}),
        )
        for name, value in row.fields.items():
            setattr(contact, name, value)
        contact.consent = {**contact.consent, **row.consent}
        contact.attributes = merge_attributes(contact.attributes, row.attributes)
        try:
            validate_attributes(contact.attributes)
        except ValidationError as exc:
            report.fail(row.line, [{"loc": ["attributes"], "msg": exc.messages[0], "type": "invalid"}])
            continue
        contacts.append(contact)
        if current:
            report.updated += 1
        else:
            report.created += 1
    Contact.objects.bulk_create(
        contacts,
        update_conflicts=True,
        unique_fields=["organization", "external_id"],
        update_fields=[*CONTACT_FIELDS, "updated_at"],
    )
    _link_events(organization=organization, external_ids=[contact.external_id for contact in contacts])


# --- Segments --------------------------------------------------------------------------


@transaction.atomic
def segment_create(
    *,
    organization: Organization,
    name: str,
    conditions: list,
    description: str = "",
    public_id: str | None = None,
) -> Segment:
    """Creates a segment after validating its conditions; a chosen segment_id must be free (400 when taken)."""
    validate_conditions(conditions)
    segment = Segment(organization=organization, name=name, description=description, conditions=conditions)
    if public_id:
        segment.public_id = public_id
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as exc:
        raise _invalid("segment_id", f"A segment with segment_id {public_id!r} already exists.", "unique") from exc
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, changes: Mapping[str, Any]) -> Segment:
    """Updates name, description or conditions; new conditions drop the stored estimate, now stale."""
    if "conditions" in changes:
        validate_conditions(changes["conditions"])
        if changes["conditions"] != segment.conditions:
            segment.estimated_size = segment.estimated_at = None
    for name in ("name", "description", "conditions"):
        if name in changes:
            setattr(segment, name, changes[name])
    segment.save()
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Deletes a segment that no campaign audience uses (400 otherwise)."""
    try:
        with transaction.atomic():
            segment.delete()
    except ProtectedError as exc:
        used_by = len(exc.protected_objects)
        raise ApplicationError(
            "INVALID_REQUEST",
            f"Segment {segment.public_id} is used by {used_by} campaign audience(s); remove it from them first.",
            status=400,
            details={"campaign_audiences": used_by},
        ) from exc


@transaction.atomic
def segment_refresh_estimate(*, segment: Segment) -> Segment:
    """Counts the segment's contacts now and stores the count with its time."""
    size = selectors.segment_estimate(segment)
    segment.estimated_size, segment.estimated_at = size, timezone.now()
    Segment.objects.filter(pk=segment.pk).update(estimated_size=size, estimated_at=segment.estimated_at)
    return segment
