from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audiences.models import Booking, Contact, Segment, Service
from audiences.segments import segment_contacts
from shokti.models import Organization

pytestmark = pytest.mark.django_db

SEED_001 = {
    "229211b0-9cf4-4e36-b707-d593034bfb0f": ("kamalnavid50@example.com", 22, 2, "Home Cleaning"),
    "201df462-8e81-475b-9b9b-2a2946218312": ("navidkamal5688@example.com", 21, 3, "Plumbing"),
    "55a91395-0760-4c57-a7db-ad97f2256917": ("navidkamal568@example.com", 23, 1, "Plumbing"),
}


def test_seed_demo_loads_seed_001_customers_and_is_idempotent():
    call_command("seed_demo")
    counts = (Contact.objects.count(), Booking.objects.count(), Service.objects.count())
    call_command("seed_demo")
    assert (Contact.objects.count(), Booking.objects.count(), Service.objects.count()) == counts

    organization = Organization.objects.get(slug="demo")
    assert Contact.objects.filter(organization=organization).count() >= 300
    now = timezone.now()
    for customer_id, (address, days, bookings, service) in SEED_001.items():
        contact = Contact.objects.get(pk=customer_id)
        assert contact.external_id == customer_id
        assert contact.email == address
        assert abs(now - contact.last_booking_at - timedelta(days=days)) < timedelta(minutes=5)
        assert contact.bookings.filter(status=Booking.Status.COMPLETED).count() == bookings
        assert contact.bookings.order_by("-finished_at").first().service.name == service


def test_every_synthetic_customer_has_a_last_booking():
    call_command("seed_demo")
    assert not Contact.objects.filter(last_booking_at__isnull=True).exists()


def test_seed_demo_launches_the_demo_campaigns_once():
    from campaigns.models import Campaign

    call_command("seed_demo")
    call_command("seed_demo")
    demo = Campaign.objects.filter(organization__slug="demo")
    assert demo.count() == 2
    assert set(demo.values_list("campaign_type", "status")) == {("scheduled", "scheduled"), ("triggered", "active")}
    scheduled = demo.get(campaign_type="scheduled")
    assert scheduled.variants.count() == 2 and scheduled.holdout_percentage == 5


def test_the_demo_organization_has_seed_004s_example_segments():
    call_command("seed_demo")
    call_command("seed_demo")
    segments = Segment.objects.filter(organization__slug="demo").order_by("public_id")
    assert [segment.public_id for segment in segments] == ["seg_active", "seg_premium_users"]
    for segment in segments:
        assert 0 < segment.estimated_size < Contact.objects.count()
        assert segment.estimated_size == segment_contacts(segment).count()
    # seed 001's customers booked 21 to 23 days ago: all active
    active = set(segment_contacts(segments[0]).values_list("external_id", flat=True))
    assert set(SEED_001) <= active
