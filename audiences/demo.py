"""Demo audience: seed 001's three customers, its services and a few hundred synthetic customers."""

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from audiences.models import Booking, Contact, Segment, Service
from audiences.services import contacts_refresh_last_booking, segment_refresh_estimate
from shokti.models import Organization

DEMO_NAMESPACE = uuid.UUID("6f1c3f0e-5b1a-4f4e-9d7a-0d2f5a9c8e11")

HOME_CLEANING_ID = uuid.UUID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
PLUMBING_ID = uuid.UUID("c3d4e5f6-a7b8-4c9d-0e1f-2a3b4c5d6e7f")

SERVICES = [
    (
        HOME_CLEANING_ID,
        "Home Cleaning",
        "হোম ক্লিনিং",
        Service.Category.CLEANING,
        "350.00",
        "Full home deep cleaning by trained professionals.",
    ),
    (
        PLUMBING_ID,
        "Plumbing",
        "প্লাম্বিং",
        Service.Category.PLUMBING,
        "500.00",
        "Leak repair, pipe fitting and regular plumbing check-ups.",
    ),
    (
        uuid.uuid5(DEMO_NAMESPACE, "service:ac"),
        "AC Servicing",
        "এসি সার্ভিসিং",
        Service.Category.APPLIANCE,
        "1200.00",
        "Air conditioner cleaning, gas refill and repair.",
    ),
    (
        uuid.uuid5(DEMO_NAMESPACE, "service:electrical"),
        "Electrical Wiring",
        "ইলেকট্রিক্যাল ওয়্যারিং",
        Service.Category.ELECTRICAL,
        "600.00",
        "Wiring, switchboards and fixtures.",
    ),
    (
        uuid.uuid5(DEMO_NAMESPACE, "service:pest"),
        "Pest Control",
        "পেস্ট কন্ট্রোল",
        Service.Category.PEST_CONTROL,
        "1500.00",
        "Cockroach, termite and mosquito control.",
    ),
]

# Seed 001: (id, email, [(service, days ago), …]) with the most recent booking last.
SEED_CUSTOMERS = [
    ("229211b0-9cf4-4e36-b707-d593034bfb0f", "kamalnavid50", [(HOME_CLEANING_ID, 64), (HOME_CLEANING_ID, 22)]),
    (
        "201df462-8e81-475b-9b9b-2a2946218312",
        "navidkamal5688",
        [(PLUMBING_ID, 95), (PLUMBING_ID, 58), (PLUMBING_ID, 21)],
    ),
    ("55a91395-0760-4c57-a7db-ad97f2256917", "navidkamal568", [(PLUMBING_ID, 23)]),
]

# Seed 004's example segments, which its sample campaign audiences name.
SEGMENTS = [
    (
        "seg_premium_users",
        "Premium users",
        "Customers on the premium plan.",
        [{"field": "attributes.plan", "operator": "eq", "value": "premium"}],
    ),
    (
        "seg_active",
        "Active customers",
        "Completed a booking in the last 60 days.",
        [{"field": "bookings.last_completed_at", "operator": "within_last_days", "value": 60}],
    ),
]

SYNTHETIC_CUSTOMERS = 300
_FIRST_NAMES = [
    "Rahim",
    "Karim",
    "Nusrat",
    "Farhana",
    "Tanvir",
    "Sadia",
    "Arif",
    "Mitu",
    "Shakib",
    "Ayesha",
    "Rafiq",
    "Jannat",
    "Imran",
    "Sumaiya",
    "Hasan",
    "Nadia",
    "Fahim",
    "Ruma",
    "Sabbir",
    "Tania",
]
_LAST_NAMES = ["Ahmed", "Hossain", "Rahman", "Islam", "Chowdhury", "Khan", "Akter", "Sarkar", "Das", "Uddin"]


def load_demo_audience(organization: Organization) -> dict:
    """Idempotent: a second load changes nothing but the seed customers' booking dates."""
    now = timezone.now()
    for service_id, name, name_bn, category, price, description in SERVICES:
        Service.objects.update_or_create(
            id=service_id,
            defaults={
                "organization": organization,
                "name": name,
                "name_bn": name_bn,
                "category": category,
                "price": Decimal(price),
                "description": description,
                "is_active": True,
            },
        )
    prices = {service_id: Decimal(price) for service_id, *_, price, _ in SERVICES}

    seeded = []
    for customer_id, handle, bookings in SEED_CUSTOMERS:
        contact, _ = Contact.objects.update_or_create(
            id=uuid.UUID(customer_id),
            defaults={
                "organization": organization,
                "external_id": customer_id,
                "email": f"{handle}@example.com",
                "first_name": handle,
                "locale": "bn",
                "timezone": "Asia/Dhaka",
                "consent": {"marketing": True, "email": True, "sms": True, "whatsapp": True, "push": True},
            },
        )
        for number, (service_id, days_ago) in enumerate(bookings):
            finished = now - timedelta(days=days_ago)
            Booking.objects.update_or_create(
                id=uuid.uuid5(DEMO_NAMESPACE, f"booking:{customer_id}:{number}"),
                defaults={
                    "organization": organization,
                    "contact": contact,
                    "service_id": service_id,
                    "status": Booking.Status.COMPLETED,
                    "scheduled_at": finished - timedelta(hours=2),
                    "finished_at": finished,
                    "total_price": prices[service_id],
                },
            )
        seeded.append(contact.pk)

    synthetic_contacts, synthetic_bookings = _synthetic_customers(organization, now, prices)
    Contact.objects.bulk_create(synthetic_contacts, ignore_conflicts=True)
    Booking.objects.bulk_create(synthetic_bookings, ignore_conflicts=True)
    contacts_refresh_last_booking(contact_ids=seeded + [contact.pk for contact in synthetic_contacts])
    for public_id, name, description, conditions in SEGMENTS:
        segment, _ = Segment.objects.update_or_create(
            organization=organization,
            public_id=public_id,
            defaults={"name": name, "description": description, "conditions": conditions},
        )
        segment_refresh_estimate(segment=segment)
    return {"services": len(SERVICES), "customers": len(seeded) + len(synthetic_contacts), "segments": len(SEGMENTS)}


def _synthetic_customers(organization, now, prices):
    rng = random.Random(2026)  # the same customers on every machine
    service_ids = list(prices)
    contacts, bookings = [], []
    for number in range(1, SYNTHETIC_CUSTOMERS + 1):
        contact = Contact(
            id=uuid.uuid5(DEMO_NAMESPACE, f"customer:{number}"),
            organization=organization,
            external_id=f"cust_{number:04d}",
            email=f"customer{number:04d}@example.com",
            phone=f"+88017{rng.randrange(10**8):08d}",
            first_name=rng.choice(_FIRST_NAMES),
            last_name=rng.choice(_LAST_NAMES),
            locale="en" if rng.random() < 0.2 else "bn",
            timezone="Asia/Dhaka",
            consent={
                "marketing": rng.random() < 0.9,
                "email": True,
                "sms": rng.random() < 0.7,
                "whatsapp": rng.random() < 0.5,
                "push": True,
            },
            attributes={
                "plan": rng.choice(["free", "plus", "premium"]),
                "city": rng.choice(["Dhaka", "Chattogram", "Sylhet"]),
            },
        )
        contacts.append(contact)
        days_ago = rng.randint(1, 120)
        for visit in range(rng.randint(1, 5)):
            service_id = rng.choice(service_ids)
            finished = now - timedelta(days=days_ago + visit * rng.randint(14, 45), hours=rng.randint(0, 10))
            bookings.append(
                Booking(
                    id=uuid.uuid5(DEMO_NAMESPACE, f"booking:customer:{number}:{visit}"),
                    organization=organization,
                    contact=contact,
                    service_id=service_id,
                    status=Booking.Status.COMPLETED,
                    scheduled_at=finished - timedelta(hours=2),
                    finished_at=finished,
                    total_price=prices[service_id],
                )
            )
    return contacts, bookings
