"""GET /api/v1/campaigns/{id}/triggers/{trigger_id}/history: a trigger's decisions, newest first."""

from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers

from campaigns.models import Campaign, Trigger, TriggerHistory, TriggerSkipReason
from shokti.auth import current_organization


class TriggerHistorySerializer(serializers.ModelSerializer):
    history_id = serializers.CharField(source="public_id")
    campaign_id = serializers.CharField(source="campaign.public_id")
    trigger_id = serializers.CharField(source="trigger.public_id")
    execution_id = serializers.CharField(source="execution.public_id", default=None)
    skip_reason = serializers.SerializerMethodField()
    deferred_reason = serializers.SerializerMethodField()

    class Meta:
        model = TriggerHistory
        fields = ["history_id", "campaign_id", "trigger_id", "event_id", "event_type", "user_id", "triggered",
                  "skip_reason", "deferred_reason", "execution_id", "evaluated_at", "scheduled_send_at"]  # fmt: skip

    def get_skip_reason(self, row) -> str | None:
        return row.skip_reason or None

    def get_deferred_reason(self, row) -> str | None:
        return row.deferred_reason or None


class TriggerHistoryQuery(serializers.Serializer):
    skip_reason = serializers.ChoiceField(choices=TriggerSkipReason.values, required=False)
    triggered = serializers.BooleanField(required=False, allow_null=True, default=None)
    user_id = serializers.CharField(required=False, max_length=255)


class TriggerHistoryView(generics.ListAPIView):
    """Filter with `?skip_reason=`, `?triggered=true|false` and `?user_id=`."""

    serializer_class = TriggerHistorySerializer
    envelope_key = "history"
    queryset = TriggerHistory.objects.none()

    def get_queryset(self):
        campaign = get_object_or_404(
            Campaign.objects.alive().filter(organization=current_organization(self.request)),
            public_id=self.kwargs["campaign_id"],
        )
        trigger = get_object_or_404(Trigger.objects.filter(campaign=campaign), public_id=self.kwargs["trigger_id"])
        query = TriggerHistoryQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {key: value for key, value in query.validated_data.items() if value is not None}
        return trigger.history.filter(**filters).select_related("campaign", "trigger", "execution")
