"""/api/v1/webhook-subscriptions: an organization's endpoints for domain events, and their delivery log."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action

from shokti.scoping import OrganizationScopedMixin
from streams.models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    subscription_id = serializers.CharField(source="public_id", read_only=True)
    event_types = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9_.]+\*?$", max_length=100), required=False, max_length=50
    )

    class Meta:
        model = WebhookSubscription
        fields = ["subscription_id", "url", "event_types", "description", "is_active", "consecutive_failures",
                  "disabled_at", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["consecutive_failures", "disabled_at", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise serializers.ValidationError("Expected an http or https URL.")
        return value

    def update(self, instance, validated_data):
        # Re-enabling a disabled subscription starts its failure count afresh.
        if validated_data.get("is_active") and not instance.is_active:
            validated_data.update(consecutive_failures=0, disabled_at=None)
        return super().update(instance, validated_data)


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The secret that signs deliveries (X-Shokti-Signature) is shown once, at creation."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSubscriptionSerializer.Meta.read_only_fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.event_type")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "status", "attempts", "next_attempt_at", "last_status_code",
                  "last_error", "delivered_at", "created_at"]  # fmt: skip


class WebhookSubscriptionViewSet(
    OrganizationScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = WebhookSubscription.objects.all()
    lookup_field = "public_id"
    lookup_url_kwarg = "subscription_id"
    envelope_key = "webhook_subscriptions"
    http_method_names = ["get", "post", "patch", "delete"]

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookSubscriptionCreatedSerializer
        if self.action == "deliveries":
            return WebhookDeliverySerializer
        return WebhookSubscriptionSerializer

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response.data = {"webhook_subscription": response.data}
        return response

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = {"webhook_subscription": response.data}
        return response

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = {"webhook_subscription": response.data}
        return response

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, subscription_id=None):
        """The subscription's delivery log, newest first."""
        self.envelope_key = "deliveries"
        rows = self.get_object().deliveries.select_related("event")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
