"""Reads on campaigns, scoped to an organization."""

from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from campaigns.models import Campaign, CampaignAudience, Channel, SegmentType, Variant
from shokti.models import Organization


def campaign_list(*, organization: Organization) -> QuerySet[Campaign]:
    return (
        Campaign.objects.alive()
        .filter(organization=organization)
        .select_related("organization", "winner_variant", "cloned_from")
    )


def campaign_detail_queryset(*, organization: Organization) -> QuerySet[Campaign]:
    """Everything the detail body shows, in a constant number of queries."""
    return campaign_list(organization=organization).prefetch_related(
        Prefetch("audiences", queryset=CampaignAudience.objects.select_related("segment")),
        Prefetch("channels", queryset=Channel.objects.select_related("variant")),
        Prefetch("variants", queryset=Variant.objects.prefetch_related(
            Prefetch("channels", queryset=Channel.objects.select_related("variant"))
        )),
        "triggers",
    )  # fmt: skip


def campaign_headline_metrics(campaign: Campaign) -> dict[str, int]:
    """Seed 004's headline numbers, summed from the executions' counters."""
    totals = campaign.executions.aggregate(
        total_audience=Sum("total_audience_size"), sent=Sum("messages_sent"), delivered=Sum("messages_delivered"),
        failed=Sum("messages_failed"),
    )  # fmt: skip
    return {key: value or 0 for key, value in totals.items()}


def campaign_audience_estimate(campaign: Campaign) -> dict:
    """Seed 004's estimate: per include segment, after exclusions, after holdout; COUNTs in the database."""
    from audiences.models import Contact
    from audiences.segments import contacts_matching, segment_contacts

    organization = campaign.organization
    by_segment, includes, excludes = [], [], []
    for audience in campaign.audiences.select_related("segment"):
        contacts = (
            segment_contacts(audience.segment)
            if audience.segment_id
            else contacts_matching(organization=organization, conditions=audience.segment_query)
        )
        ids = contacts.values("pk")
        if audience.segment_type == SegmentType.INCLUDE:
            size = contacts.count()
            by_segment.append(
                {"segment_id": audience.segment.public_id if audience.segment_id else audience.public_id, "size": size}
            )
            includes.append(ids)
        else:
            excludes.append(ids)

    everyone = Contact.objects.filter(organization=organization)
    included = everyone.none()
    for ids in includes:
        included = included | everyone.filter(pk__in=ids)
    estimated_size = included.count() if includes else 0
    remaining = included
    for ids in excludes:
        remaining = remaining.exclude(pk__in=ids)
    after_exclusions = remaining.count() if includes else 0
    after_holdout = round(after_exclusions * (100 - float(campaign.holdout_percentage)) / 100)
    return {
        "estimated_size": estimated_size,
        "by_segment": by_segment,
        "after_exclusions": after_exclusions,
        "after_holdout": after_holdout,
        "estimated_at": timezone.now(),
    }
