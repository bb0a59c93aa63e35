"""Seed 004's campaign endpoints: thin viewsets over campaigns.services and campaigns.lifecycle."""

import uuid

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audiences.models import Contact
from campaigns import execution, lifecycle, selectors, services
from campaigns.api import serializers as s
from campaigns.filters import CampaignFilter
from campaigns.models import Campaign, CampaignAudience, Channel, Execution, ExecutionType, Trigger, Variant
from messaging.rendering import contact_context, render_channel
from shokti.auth import current_organization
from shokti.errors import NotFound


def actor_of(request) -> str:
    user = getattr(request, "user", None)
    return user.get_username() if user is not None else "system"


def campaign_body(campaign: Campaign, **extra) -> dict:
    fresh = selectors.campaign_detail_queryset(organization=campaign.organization).get(pk=campaign.pk)
    return {"campaign": s.CampaignDetailSerializer(fresh).data, **extra}


def _wrapped(name: str, serializer, **extra):
    return inline_serializer(name, {"campaign": serializer, **extra})


class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "public_id"
    lookup_url_kwarg = "campaign_id"
    filterset_class = CampaignFilter
    envelope_key = "campaigns"
    serializer_class = s.CampaignSerializer
    queryset = Campaign.objects.none()  # the real one is scoped per request

    def get_queryset(self):
        organization = current_organization(self.request)
        if self.action == "list":
            return selectors.campaign_list(organization=organization)
        return selectors.campaign_detail_queryset(organization=organization)

    @extend_schema(
        request=s.CampaignCreateSerializer,
        responses={
            201: inline_serializer(
                "CampaignCreated", {"campaign": s.CampaignDetailSerializer(), "message": serializers.CharField()}
            )
        },
        summary="Create a campaign (draft) with its audiences, channels, variants and triggers",
    )
    def create(self, request):
        context = {**self.get_serializer_context(), "organization": current_organization(request)}
        serializer = s.CampaignCreateSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_create(
            organization=current_organization(request), actor=actor_of(request), data=serializer.validated_data
        )
        return Response(
            campaign_body(campaign, message="Campaign created successfully"), status=status.HTTP_201_CREATED
        )

    @extend_schema(responses=_wrapped("CampaignDetail", s.CampaignDetailSerializer()))
    def retrieve(self, request, campaign_id=None):
        return Response({"campaign": s.CampaignDetailSerializer(self.get_object()).data})

    @extend_schema(
        request=s.CampaignUpdateSerializer, responses=_wrapped("CampaignUpdated", s.CampaignDetailSerializer())
    )
    def partial_update(self, request, campaign_id=None):
        campaign = self.get_object()
        serializer = s.CampaignUpdateSerializer(campaign, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign, actor=actor_of(request), data=serializer.validated_data)
        return Response(campaign_body(campaign))

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.partial_update(request, *args, **kwargs)
        return super().update(request, *args, **kwargs)

    @extend_schema(responses={204: OpenApiResponse(description="Soft-deleted")})
    def destroy(self, request, campaign_id=None):
        services.campaign_delete(self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- lifecycle ---------------------------------------------------------------------------

    def _transition(self, function, **kwargs):
        campaign = function(self.get_object(), actor=actor_of(self.request), **kwargs)
        return Response(campaign_body(campaign))

    @extend_schema(
        request=s.ScheduleRequestSerializer, responses=_wrapped("CampaignScheduled", s.CampaignDetailSerializer())
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, campaign_id=None):
        body = s.ScheduleRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._transition(lifecycle.campaign_schedule, scheduled_at=body.validated_data.get("scheduled_at"))

    @extend_schema(request=None, responses=_wrapped("CampaignActivated", s.CampaignDetailSerializer()))
    @action(detail=True, methods=["post"])
    def activate(self, request, campaign_id=None):
        return self._transition(lifecycle.campaign_activate)

    @extend_schema(request=None, responses=_wrapped("CampaignPaused", s.CampaignDetailSerializer()))
    @action(detail=True, methods=["post"])
    def pause(self, request, campaign_id=None):
        return self._transition(lifecycle.campaign_pause)

    @extend_schema(request=None, responses=_wrapped("CampaignResumed", s.CampaignDetailSerializer()))
    @action(detail=True, methods=["post"])
    def resume(self, request, campaign_id=None):
        return self._transition(lifecycle.campaign_resume)

    @extend_schema(
        request=s.CancelRequestSerializer, responses=_wrapped("CampaignCancelled", s.CampaignDetailSerializer())
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, campaign_id=None):
        body = s.CancelRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._transition(lifecycle.campaign_cancel, reason=body.validated_data["reason"])

    @extend_schema(
        request=s.CloneRequestSerializer,
        responses={
            201: inline_serializer(
                "CampaignCloned", {"campaign": s.CampaignDetailSerializer(), "message": serializers.CharField()}
            )
        },
    )
    @action(detail=True, methods=["post"])
    def clone(self, request, campaign_id=None):
        body = s.CloneRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        clone = services.campaign_clone(self.get_object(), actor=actor_of(request), name=body.validated_data["name"])
        return Response(campaign_body(clone, message="Campaign cloned successfully"), status=status.HTTP_201_CREATED)

    # --- reads ---------------------------------------------------------------------------------

    @extend_schema(
        request=s.PreviewRequestSerializer,
        responses=inline_serializer(
            "CampaignPreview",
            {
                "campaign_id": serializers.CharField(),
                "variant_id": serializers.CharField(allow_null=True),
                "channel_id": serializers.CharField(),
                "channel_type": serializers.CharField(),
                "sample_user_id": serializers.CharField(),
                "content": serializers.DictField(child=serializers.CharField()),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, campaign_id=None):
        campaign = self.get_object()
        body = s.PreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        variant_id, channel_type = body.validated_data.get("variant_id"), body.validated_data["channel_type"]
        channels = [c for c in campaign.channels.all() if c.channel_type == channel_type]
        if variant_id:
            variant_channels = [c for c in channels if c.variant and c.variant.public_id == variant_id]
            if not any(v.public_id == variant_id for v in campaign.variants.all()):
                raise NotFound(f"Variant {variant_id} not found in this campaign.")
            # A variant without its own content for this channel uses the campaign's.
            channels = variant_channels or [c for c in channels if c.variant_id is None]
        else:
            channels = [c for c in channels if c.variant_id is None] or channels
        if not channels:
            raise NotFound(f"This campaign has no {channel_type} channel.")
        user_id = body.validated_data.get("sample_user_id")
        if user_id:
            contact = Contact.objects.filter(organization=campaign.organization, external_id=user_id).first()
            if contact is None:
                raise NotFound(f"User {user_id} not found.", code="USER_NOT_FOUND")
        else:
            contact = s.sample_contact(campaign.organization)
        channel = channels[0]
        return Response(
            {
                "campaign_id": campaign.public_id,
                "variant_id": variant_id,
                "channel_id": channel.public_id,
                "channel_type": channel_type,
                "sample_user_id": contact.external_id,
                "content": render_channel(channel, contact_context(contact)),
            }
        )


# --- parts of a campaign ---------------------------------------------------------------------


class CampaignPartViewSet(viewsets.ViewSet):
    """List, add, read, change and remove one kind of part under /campaigns/{campaign_id}/."""

    model = None
    serializer_class = None
    envelope_key = ""
    item_key = ""

    def campaign(self) -> Campaign:
        return get_object_or_404(
            selectors.campaign_detail_queryset(organization=current_organization(self.request)),
            public_id=self.kwargs["campaign_id"],
        )

    def parts(self, campaign):
        return self.model.objects.filter(campaign=campaign)

    def part(self, campaign, part_id):
        return get_object_or_404(self.parts(campaign), public_id=part_id)

    def context(self, campaign):
        return {"request": self.request, "organization": campaign.organization}

    def list(self, request, campaign_id=None):
        campaign = self.campaign()
        items = self.serializer_class(self.parts(campaign), many=True, context=self.context(campaign)).data
        return Response({self.envelope_key: items, "total": len(items)})

    def create(self, request, campaign_id=None):
        campaign = self.campaign()
        serializer = self.serializer_class(data=request.data, context=self.context(campaign))
        serializer.is_valid(raise_exception=True)
        part = services.campaign_part_create(
            campaign, actor=actor_of(request), model=self.model, data=serializer.validated_data
        )
        return Response({self.item_key: self.serializer_class(part).data}, status=status.HTTP_201_CREATED)

    def retrieve(self, request, campaign_id=None, part_id=None):
        campaign = self.campaign()
        return Response({self.item_key: self.serializer_class(self.part(campaign, part_id)).data})

    def partial_update(self, request, campaign_id=None, part_id=None):
        campaign = self.campaign()
        part = self.part(campaign, part_id)
        serializer = self.serializer_class(part, data=request.data, partial=True, context=self.context(campaign))
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "channels"}
        part = services.campaign_part_update(part, actor=actor_of(request), data=data)
        return Response({self.item_key: self.serializer_class(part).data})

    def destroy(self, request, campaign_id=None, part_id=None):
        campaign = self.campaign()
        services.campaign_part_delete(self.part(campaign, part_id), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VariantViewSet(CampaignPartViewSet):
    model, serializer_class, envelope_key, item_key = Variant, s.VariantSerializer, "variants", "variant"


class ChannelViewSet(CampaignPartViewSet):
    model, serializer_class, envelope_key, item_key = Channel, s.ChannelSerializer, "channels", "channel"

    def parts(self, campaign):
        return super().parts(campaign).select_related("variant")


class TriggerViewSet(CampaignPartViewSet):
    model, serializer_class, envelope_key, item_key = Trigger, s.TriggerSerializer, "triggers", "trigger"


class AudienceViewSet(CampaignPartViewSet):
    model, serializer_class, envelope_key, item_key = CampaignAudience, s.AudienceSerializer, "audiences", "audience"

    def parts(self, campaign):
        return super().parts(campaign).select_related("segment")

    @extend_schema(request=None, responses=s.EstimateResponseSerializer)
    def estimate(self, request, campaign_id=None):
        campaign = self.campaign()
        result = selectors.campaign_audience_estimate(campaign)
        return Response(s.EstimateResponseSerializer(result).data)


class ExecutionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ExecutionSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "execution_id"
    envelope_key = "executions"
    queryset = Execution.objects.none()

    def get_queryset(self):
        campaign = get_object_or_404(
            Campaign.objects.alive().filter(organization=current_organization(self.request)),
            public_id=self.kwargs["campaign_id"],
        )
        return campaign.executions.select_related("campaign")

    def retrieve(self, request, *args, **kwargs):
        return Response({"execution": self.get_serializer(self.get_object()).data})

    @extend_schema(
        request=None,
        responses={202: inline_serializer("ExecutionStarted", {"execution": s.ExecutionSerializer()})},
        summary="Run a draft or scheduled campaign now",
        description="An `Idempotency-Key` header makes a repeated request return the first run.",
    )
    def create(self, request, campaign_id=None):
        campaign = get_object_or_404(
            Campaign.objects.alive().filter(organization=current_organization(request)), public_id=campaign_id
        )
        key = request.headers.get("Idempotency-Key") or uuid.uuid4().hex
        run, _ = execution.execution_start(
            campaign, execution_type=ExecutionType.MANUAL, occurrence_key=f"manual:{key[:80]}", actor=actor_of(request)
        )
        return Response({"execution": self.get_serializer(run).data}, status=status.HTTP_202_ACCEPTED)
