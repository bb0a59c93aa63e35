"""Reads on campaigns, scoped to an organization."""

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from audiences.models import Contact
from audiences.segments import contacts_matching, segment_contacts
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


def audience_sets(
    campaign: Campaign,
) -> tuple[list[tuple[CampaignAudience, QuerySet[Contact]]], list[QuerySet[Contact]]]:
    """Each include audience with its contacts, and the contacts of the exclude audiences (all lazy)."""
    includes, excludes = [], []
    for audience in campaign.audiences.select_related("segment"):
        contacts = (
            segment_contacts(audience.segment)
            if audience.segment_id
            else contacts_matching(organization=campaign.organization_id, conditions=audience.segment_query)
        )
        if audience.segment_type == SegmentType.INCLUDE:
            includes.append((audience, contacts))
        else:
            excludes.append(contacts)
    return includes, excludes


def contacts_in(organization_id: int, includes: list[QuerySet[Contact]], excludes: list[QuerySet[Contact]]):
    """The union of `includes` minus the union of `excludes`, as one lazy queryset."""
    if len(includes) == 1 and not excludes:
        return includes[0]  # the common case, without a self-join
    include, exclude = Q(pk__in=[]), Q(pk__in=[])
    for contacts in includes:
        include |= Q(pk__in=contacts.values("pk"))
    for contacts in excludes:
        exclude |= Q(pk__in=contacts.values("pk"))
    return Contact.objects.filter(organization=organization_id).filter(include).exclude(exclude)


def audience_contacts(campaign: Campaign) -> QuerySet[Contact]:
    """The campaign's audience: include segments minus exclude segments."""
    includes, excludes = audience_sets(campaign)
    return contacts_in(campaign.organization_id, [contacts for _, contacts in includes], excludes)


def campaign_audience_estimate(campaign: Campaign) -> dict:
    """Seed 004's estimate: per include segment, after exclusions, after holdout; COUNTs in the database."""
    includes, excludes = audience_sets(campaign)
    by_segment = [
        {
            "segment_id": audience.segment.public_id if audience.segment_id else audience.public_id,
            "size": contacts.count(),
        }
        for audience, contacts in includes
    ]
    included = [contacts for _, contacts in includes]
    estimated_size = contacts_in(campaign.organization_id, included, []).count() if included else 0
    after_exclusions = contacts_in(campaign.organization_id, included, excludes).count() if included else 0
    after_holdout = round(after_exclusions * (100 - float(campaign.holdout_percentage)) / 100)
    return {
        "estimated_size": estimated_size,
        "by_segment": by_segment,
        "after_exclusions": after_exclusions,
        "after_holdout": after_holdout,
        "estimated_at": timezone.now(),
    }
