"""GET /api/v1/campaigns/{id}/metrics: seed 004's endpoint 11, read from the counters."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from shokti.auth import current_organization

BREAKDOWNS = ("variant", "channel")


class MetricsQuerySerializer(serializers.Serializer):
    breakdown_by = serializers.CharField(required=False, allow_blank=True, default="")
    # `from` is a Python keyword: the serializer maps the query parameters by hand in validate().
    start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    interval = serializers.ChoiceField(choices=["hour", "day"], required=False, allow_null=True, default=None)

    def to_internal_value(self, data):
        data = {key: value for key, value in data.items() if key in {"breakdown_by", "interval"}} | {
            key: data[source] for key, source in (("start", "from"), ("end", "to")) if source in data
        }
        return super().to_internal_value(data)

    def validate_breakdown_by(self, value: str) -> list[str]:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in parts if part not in BREAKDOWNS]
        if unknown:
            raise serializers.ValidationError(f"Unknown breakdown {', '.join(unknown)}; use variant, channel.")
        return parts

    def validate(self, attrs):
        if attrs["start"] and attrs["end"] and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"from": "must be before 'to'."})
        return attrs


class CampaignMetricsView(APIView):
    """Totals with seed 004's rates, breakdowns by variant and channel, holdout lift, and a time series."""

    @extend_schema(
        parameters=[
            OpenApiParameter("breakdown_by", str, description="Comma-separated: variant, channel"),
            OpenApiParameter("from", str, description="ISO 8601; counters from this hour on"),
            OpenApiParameter("to", str, description="ISO 8601; counters before this hour"),
            OpenApiParameter("interval", str, enum=["hour", "day"], description="Adds a time series"),
        ],
        responses=inline_serializer(
            "CampaignMetrics",
            {
                "campaign_id": serializers.CharField(),
                "metrics": serializers.DictField(),
                "updated_at": serializers.DateTimeField(),
            },
        ),
        summary="A campaign's metrics",
    )
    def get(self, request, campaign_id: str):
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        campaign = selectors.campaign_for(current_organization(request), campaign_id)
        return Response(
            selectors.campaign_metrics(
                campaign, breakdown_by=params["breakdown_by"], start=params["start"], end=params["end"],
                interval=params["interval"],
            )
        )  # fmt: skip
