"""Helpers for engine tests: contacts in bulk and ready-to-run campaigns."""

import uuid
from decimal import Decimal

from audiences.models import Contact, Segment
from campaigns.models import Campaign, CampaignAudience, Channel, Execution, Variant


def bulk_contacts(org, count: int, **fields) -> list[uuid.UUID]:
    """Creates `count` contacts with bulk inserts; returns their ids."""
    defaults = {"timezone": "Asia/Dhaka", "consent": {"marketing": True}, "attributes": {"plan": "premium"}}
    defaults.update(fields)
    rows = []
    for number in range(count):
        contact_id = uuid.uuid4()
        values = {"email": f"u{number}-{contact_id.hex[:6]}@example.com", **defaults}
        rows.append(Contact(id=contact_id, organization=org, external_id=f"u{number}-{contact_id.hex[:6]}", **values))
    Contact.objects.bulk_create(rows, batch_size=5000)
    return [row.id for row in rows]


def ready_campaign(org, *, variants=(), holdout=0, channels=None, **fields) -> Campaign:
    """A scheduled campaign on everyone with plan=premium; variants are (name, allocation, is_control)."""
    segment, _ = Segment.objects.get_or_create(
        organization=org, public_id="seg_everyone_premium",
        defaults={"name": "Premium", "conditions": [{"field": "attributes.plan", "operator": "eq", "value": "premium"}]},
    )  # fmt: skip
    values = {"name": "Engine test", "campaign_type": "scheduled", "schedule_type": "one_time", **fields}
    campaign = Campaign.objects.create(
        organization=org, holdout_percentage=Decimal(holdout), created_by="tester", **values
    )
    CampaignAudience.objects.create(campaign=campaign, segment=segment)
    for name, allocation, is_control in variants:
        Variant.objects.create(
            campaign=campaign, name=name, allocation_percentage=Decimal(allocation), is_control=is_control
        )
    for channel in channels or [
        {"channel_type": "email", "email_subject": "Hi {{ first_name }}", "email_body_text": "Hello"}
    ]:
        Channel.objects.create(campaign=campaign, **channel)
    return campaign


def new_execution(campaign: Campaign, key: str = "test") -> Execution:
    return Execution.objects.create(campaign=campaign, execution_type="manual", occurrence_key=key, status="running")
