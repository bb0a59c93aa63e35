"""Writes on contacts and bookings."""

from collections.abc import Iterable

from django.db.models import Max, OuterRef, Subquery

from audiences.models import Booking, Contact


def contacts_refresh_last_booking(*, contact_ids: Iterable) -> int:
    """Sets last_booking_at to each contact's latest completed booking, in one UPDATE."""
    latest = (
        Booking.objects.filter(contact=OuterRef("pk"), status=Booking.Status.COMPLETED)
        .values("contact")
        .annotate(latest=Max("finished_at"))
        .values("latest")
    )
    return Contact.objects.filter(pk__in=list(contact_ids)).update(last_booking_at=Subquery(latest))
