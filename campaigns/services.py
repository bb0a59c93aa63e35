"""Writes on campaigns and their parts. Lifecycle transitions live in campaigns.lifecycle."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns import lifecycle, scheduling, validation
from campaigns.events import emit
from campaigns.models import Campaign, CampaignAudience, Channel, Trigger, Variant
from shokti.models import Organization

CHILDREN = ("audiences", "channels", "variants", "triggers")


def _create_children(campaign: Campaign, data: dict[str, Any]) -> None:
    for audience in data.get("audiences", []):
        CampaignAudience.objects.create(campaign=campaign, **audience)
    for channel in data.get("channels", []):
        Channel.objects.create(campaign=campaign, **channel)
    for variant in data.get("variants", []):
        variant = dict(variant)
        channels = variant.pop("channels", [])
        created = Variant.objects.create(campaign=campaign, **variant)
        for channel in channels:
            Channel.objects.create(campaign=campaign, variant=created, **channel)
    for trigger in data.get("triggers", []):
        Trigger.objects.create(campaign=campaign, **trigger)


@transaction.atomic
def campaign_create(*, organization: Organization, actor: str, data: dict[str, Any]) -> Campaign:
    """Creates a draft campaign with its audiences, channels, variants and triggers.

    A campaign created whole must already satisfy seed 004's rules (a schedule
    for a scheduled campaign, a trigger for a triggered one, allocations summing
    to 100); the transaction rolls back otherwise.
    """
    if sum(1 for variant in data.get("variants", []) if variant.get("is_control")) > 1:
        raise validation.invalid([validation.error(["variants"], "At most one variant may be the control.")])
    fields = {key: value for key, value in data.items() if key not in CHILDREN}
    campaign = Campaign.objects.create(organization=organization, created_by=actor, updated_by=actor, **fields)
    _create_children(campaign, data)
    errors = validation.schedule_errors(campaign) + validation.variant_errors(list(campaign.variants.all()))
    if campaign.campaign_type == Campaign.Type.TRIGGERED and not data.get("triggers"):
        errors.append(validation.error(["triggers"], "A triggered campaign needs a trigger.", "missing"))
    for index, channel in enumerate(campaign.channels.all()):
        errors.extend(validation.channel_errors(channel, ["channels", index]))
    if errors:
        raise validation.invalid(errors)
    emit(
        "campaign.created",
        campaign,
        name=campaign.name,
        type=campaign.campaign_type,
        status=campaign.status,
        created_by=actor,
    )
    return campaign


@transaction.atomic
def campaign_update(campaign: Campaign, *, actor: str, data: dict[str, Any]) -> Campaign:
    """Changes a draft, scheduled or paused campaign's own fields."""
    campaign = lifecycle.lock_for(campaign, "edit")
    changed = [key for key, value in data.items() if getattr(campaign, key) != value]
    for key in changed:
        setattr(campaign, key, data[key])
    rescheduled = {"schedule_type", "scheduled_at", "cron_expression", "timezone", "exclude_weekends"} & set(changed)
    if rescheduled and campaign.status != Campaign.Status.DRAFT:
        validation.check_schedule(campaign)
    if changed:
        campaign.updated_by = actor
        campaign.save(update_fields=[*changed, "updated_by", "updated_at"])
        if rescheduled and campaign.status == Campaign.Status.SCHEDULED:
            scheduling.campaign_schedule_entry_write(campaign)
        emit("campaign.updated", campaign, changed_fields=changed, updated_by=actor)
    return campaign


@transaction.atomic
def campaign_delete(campaign: Campaign, *, actor: str) -> None:
    """Soft delete: the row stays for reporting but leaves every list."""
    campaign = lifecycle.lock_for(campaign, "delete")
    campaign.deleted_at = timezone.now()
    campaign.updated_by = actor
    campaign.save(update_fields=["deleted_at", "updated_by", "updated_at"])
    scheduling.campaign_schedule_entry_delete(campaign)
    emit("campaign.deleted", campaign, deleted_by=actor)


_NOT_COPIED = {"id", "public_id", "organization", "campaign"}


def _copy_fields(instance, **overrides) -> dict[str, Any]:
    values = {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.name not in _NOT_COPIED and not field.auto_created
    }
    values.pop("campaign_id", None)
    values.pop("organization_id", None)
    values.update(overrides)
    return values


@transaction.atomic
def campaign_clone(campaign: Campaign, *, actor: str, name: str = "") -> Campaign:
    """A draft copy with every part, remembering where it came from; any status may be cloned."""
    audit = {
        "status": Campaign.Status.DRAFT,
        "status_before_pause": "",
        "winner_variant_id": None,
        "created_by": actor,
        "updated_by": actor,
        "scheduled_by": "",
        "activated_at": None,
        "paused_by": "",
        "paused_at": None,
        "cancelled_by": "",
        "cancelled_at": None,
        "cancelled_reason": "",
        "completed_at": None,
        "deleted_at": None,
        "cloned_from_id": campaign.pk,
    }
    clone = Campaign.objects.create(
        organization=campaign.organization,
        **_copy_fields(campaign, name=name or f"{campaign.name} (copy)", **audit),
    )
    for audience in campaign.audiences.all():
        CampaignAudience.objects.create(campaign=clone, **_copy_fields(audience))
    variant_map = {}
    for variant in campaign.variants.all():
        variant_map[variant.pk] = Variant.objects.create(campaign=clone, **_copy_fields(variant))
    for channel in campaign.channels.all():
        copied_variant = variant_map.get(channel.variant_id)
        Channel.objects.create(
            campaign=clone, **_copy_fields(channel, variant_id=copied_variant.pk if copied_variant else None)
        )
    for trigger in campaign.triggers.all():
        Trigger.objects.create(campaign=clone, **_copy_fields(trigger))
    emit(
        "campaign.created",
        clone,
        name=clone.name,
        type=clone.campaign_type,
        status=clone.status,
        created_by=actor,
        cloned_from=campaign.public_id,
    )
    return clone


# --- parts of a campaign (only while it is editable) ------------------------------------------


@transaction.atomic
def campaign_part_create(campaign: Campaign, *, actor: str, model, data: dict[str, Any]):
    """Adds an audience, channel, variant (with its channels) or trigger to an editable campaign."""
    campaign = lifecycle.lock_for(campaign, "edit")
    data = dict(data)
    channels = data.pop("channels", []) if model is Variant else []
    _check_single_control(campaign, data)
    part = model.objects.create(campaign=campaign, **data)
    for channel in channels:
        Channel.objects.create(campaign=campaign, variant=part, **channel)
    if model is Channel:
        errors = validation.channel_errors(part, [])
        if errors:
            raise validation.invalid(errors)
    emit(
        "campaign.updated",
        campaign,
        changed_fields=[model._meta.verbose_name_plural.replace(" ", "_")],
        updated_by=actor,
    )
    return part


def _check_single_control(campaign: Campaign, data: dict[str, Any], exclude_pk=None) -> None:
    if data.get("is_control") and campaign.variants.filter(is_control=True).exclude(pk=exclude_pk).exists():
        raise validation.invalid([validation.error(["is_control"], "This campaign already has a control variant.")])


@transaction.atomic
def campaign_part_update(part, *, actor: str, data: dict[str, Any]):
    lifecycle.lock_for(part.campaign, "edit")
    if isinstance(part, Variant):
        _check_single_control(part.campaign, data, exclude_pk=part.pk)
    for key, value in data.items():
        setattr(part, key, value)
    part.save()
    if isinstance(part, Channel):
        errors = validation.channel_errors(part, [])
        if errors:
            raise validation.invalid(errors)
    emit(
        "campaign.updated",
        part.campaign,
        changed_fields=[type(part)._meta.verbose_name_plural.replace(" ", "_")],
        updated_by=actor,
    )
    return part


@transaction.atomic
def campaign_part_delete(part, *, actor: str) -> None:
    campaign = lifecycle.lock_for(part.campaign, "edit")
    name = type(part)._meta.verbose_name_plural.replace(" ", "_")
    part.delete()
    emit("campaign.updated", campaign, changed_fields=[name], updated_by=actor)
