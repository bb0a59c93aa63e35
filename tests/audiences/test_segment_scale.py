"""Resolving a segment costs the same few queries whatever the number of contacts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audiences.models import Booking, Contact, Event
from audiences.segments import segment_contacts
from audiences.selectors import segment_estimate
from tests.factories import SegmentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

CONTACTS = 100_000


@pytest.fixture
def crowd(org):
    now = timezone.now()
    contacts = [
        Contact(
            organization=org,
            external_id=f"c{number}",
            locale="en" if number % 5 == 0 else "bn",
            consent={"marketing": number % 10 != 0},
            attributes={"plan": "premium" if number % 4 == 0 else "free", "age": 18 + number % 50},
        )
        for number in range(CONTACTS)
    ]
    Contact.objects.bulk_create(contacts, batch_size=5000)
    service = ServiceFactory(organization=org)
    active = contacts[::50]  # 2,000 contacts with history
    Booking.objects.bulk_create(
        Booking(
            organization=org,
            contact=contact,
            service=service,
            status=Booking.Status.COMPLETED,
            scheduled_at=now,
            finished_at=now - timedelta(days=10),
            total_price=500,
        )
        for contact in active
    )
    Event.objects.bulk_create(
        Event(
            organization=org,
            contact=contact,
            user_id=contact.external_id,
            event_id=f"{contact.external_id}:{number}",
            event_type="app_open",
            occurred_at=now - timedelta(days=number),
        )
        for contact in active
        for number in range(3)
    )
    if connection.vendor == "postgresql":
        # Statistics, as autovacuum would gather them after such a load: without
        # any, the planner takes the organization for 0.5 % of 12,000 rows and
        # picks nested loops that rescan subqueries per contact.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE audiences_contact, audiences_booking, audiences_event")
    return contacts


def test_resolving_a_segment_over_100000_contacts_is_one_query(crowd, org, django_assert_max_num_queries):
    segment = SegmentFactory(
        organization=org,
        conditions=[
            {"field": "consent.marketing", "operator": "eq", "value": True},
            {
                "any": [
                    {"field": "attributes.plan", "operator": "eq", "value": "premium"},
                    {
                        "field": "events.count",
                        "event_type": "app_open",
                        "window_days": 30,
                        "operator": "gte",
                        "value": 3,
                    },
                ]
            },
            {"not": {"field": "bookings.total_spent", "operator": "gt", "value": 1000}},
            {"field": "attributes.age", "operator": "lt", "value": 60},
        ],
    )
    with django_assert_max_num_queries(1):
        ids = list(segment_contacts(segment).values_list("external_id", flat=True))
    with django_assert_max_num_queries(1):
        size = segment_estimate(segment)

    # every 4th contact is premium, every 50th has the events; every 10th refused marketing; age 58-67 drop out
    expected = {
        f"c{number}"
        for number in range(CONTACTS)
        if number % 10 and (number % 4 == 0 or number % 50 == 0) and 18 + number % 50 < 60
    }
    assert size == len(ids) == len(expected)
    assert set(ids) == expected
