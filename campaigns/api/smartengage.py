"""SmartEngage endpoints (seeds 000 and 001, API.md): thin views over campaigns.smartengage."""

import time

from django.conf import settings
from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.models import Contact, Service
from campaigns import smartengage
from campaigns.models import SmartEngageRun
from shokti import correlation
from shokti.auth import (
    ApiTokenAuthentication,
    InternalCaller,
    InternalTokenAuthentication,
    IsInternalCaller,
    current_organization,
    current_role,
    internal_endpoints_open,
)
from shokti.errors import ApplicationError
from shokti.models import Organization, Role

MESSAGE_TYPES = ["reminder", "upsell"]


def _organization(request) -> Organization:
    """The token's or staff user's organization; internal callers act for SMARTENGAGE_ORGANIZATION."""
    organization = current_organization(request)
    if organization is not None:
        return organization
    organization = Organization.objects.filter(slug=settings.SMARTENGAGE_ORGANIZATION).first()
    if organization is None:
        raise ApplicationError("NOT_FOUND", f"No organization {settings.SMARTENGAGE_ORGANIZATION!r}: "
                               "set SMARTENGAGE_ORGANIZATION or run seed_demo.", status=404)  # fmt: skip
    return organization


class IsSmartEngageOperator(permissions.BasePermission):
    """An admin or marketer (Bearer token or staff session), or the internal token (API.md)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, InternalCaller):
            return True
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.is_superuser or current_role(request) in {Role.ADMIN, Role.MARKETER}:
                return True
            raise exceptions.PermissionDenied("SmartEngage sends need an admin or marketer.")
        if internal_endpoints_open():
            return True
        raise exceptions.NotAuthenticated("Send a Bearer token, a staff session or X-Internal-Token.")


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """A staff user logged in to the admin console (CSRF checked, as DRF does for sessions)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and not result[0].is_staff:
            return None
        return result


# --- run-segment -----------------------------------------------------------------------------------


class RunSegmentSerializer(serializers.Serializer):
    booking_cadence_days = serializers.IntegerField(min_value=7, max_value=90, required=False, allow_null=True)
    send_window_start = serializers.IntegerField(min_value=0, max_value=23, required=False, allow_null=True)
    send_window_end = serializers.IntegerField(min_value=0, max_value=23, required=False, allow_null=True)
    batch_size = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True)
    promo_code = serializers.CharField(max_length=50, required=False, allow_null=True, allow_blank=True)
    preset = serializers.ChoiceField(choices=list(smartengage.PRESETS), required=False, allow_null=True)
    dry_run = serializers.BooleanField(required=False, default=False)
    wait_seconds = serializers.FloatField(min_value=0, max_value=300, required=False, default=30)


class RunSegmentView(APIView):
    authentication_classes = [InternalTokenAuthentication]
    permission_classes = [IsInternalCaller]
    validation_error_status = 422

    def post(self, request):
        body = RunSegmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        params = smartengage.smartengage_parameters(data)
        correlation_id = correlation.get_or_new()
        outcome = smartengage.smartengage_run_segment(
            organization=_organization(request), params=params, correlation_id=correlation_id,
            dry_run=data["dry_run"],
        )  # fmt: skip
        if data["dry_run"]:
            result = {"total_eligible": outcome.total_eligible, "sent": 0, "failed": 0, "skipped": 0,
                      "duration_seconds": 0.0, "dry_run": True, "results": outcome.preview}  # fmt: skip
            return Response({"status": "started", "correlation_id": correlation_id,
                             "message": "Dry run: customers selected and texts rendered; nothing sent",
                             "campaign_result": result}, status=202)  # fmt: skip
        run = outcome.run
        if smartengage.smartengage_wait(run, data["wait_seconds"]):
            run.refresh_from_db()
            result = smartengage.campaign_result(run, with_results=True)
            return Response({"status": "started", "correlation_id": correlation_id,
                             "message": "SmartEngage campaign completed successfully",
                             "campaign_result": result}, status=202)  # fmt: skip
        return Response({"status": "accepted", "correlation_id": correlation_id,
                         "message": "SmartEngage campaign is running; read its result from /internal/jobs/history",
                         "campaign_result": None}, status=202)  # fmt: skip


# --- send-single and send-bulk ---------------------------------------------------------------------


class SendSingleSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    message_type = serializers.ChoiceField(choices=MESSAGE_TYPES, required=False, default="reminder")
    service_id = serializers.UUIDField(required=False, allow_null=True)
    promo_code = serializers.CharField(max_length=50, required=False, allow_null=True, allow_blank=True)
    ttl_hours = serializers.IntegerField(min_value=1, max_value=720, required=False, default=48)


class SendBulkSerializer(serializers.Serializer):
    customer_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=1000)
    message_type = serializers.ChoiceField(choices=MESSAGE_TYPES, required=False, default="reminder")
    booking_cadence_days = serializers.IntegerField(min_value=7, max_value=90, required=False, allow_null=True)
    service_id = serializers.UUIDField(required=False, allow_null=True)
    promo_code = serializers.CharField(max_length=50, required=False, allow_null=True, allow_blank=True)
    batch_size = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=50)
    bypass_frequency_caps = serializers.BooleanField(required=False, default=False)
    ttl_hours = serializers.IntegerField(min_value=1, max_value=720, required=False, default=48)


def _send_params(data: dict, organization: Organization) -> dict:
    if data.get("service_id"):
        get_object_or_404(Service, pk=data["service_id"], organization=organization)
    return {"message_type": data["message_type"].upper(), "promo_code": data.get("promo_code") or None,
            "ttl_hours": data["ttl_hours"], "service_id": str(data["service_id"]) if data.get("service_id") else None,
            "batch_size": data.get("batch_size")}  # fmt: skip


class _OperatorView(APIView):
    authentication_classes = [InternalTokenAuthentication, ApiTokenAuthentication, StaffSessionAuthentication]
    permission_classes = [IsSmartEngageOperator]
    validation_error_status = 422


class SendSingleView(_OperatorView):
    def post(self, request):
        body = SendSingleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data, organization = body.validated_data, _organization(request)
        if not Contact.objects.filter(pk=data["customer_id"], organization=organization).exists():
            raise ApplicationError("USER_NOT_FOUND", f"No customer {data['customer_id']}.", status=404)
        params = _send_params(data, organization)
        correlation_id = correlation.get_or_new()
        run = smartengage.smartengage_send(
            organization=organization, customer_ids=[data["customer_id"]], params=params,
            correlation_id=correlation_id, kind=SmartEngageRun.Kind.SINGLE, bypass_frequency_caps=True,
        )  # fmt: skip
        line = smartengage.campaign_result(run)["results"][0]
        answer = {"success": line["success"], "message_id": line["message_id"], "customer_id": line["customer_id"],
                  "correlation_id": correlation_id, "channel": "EMAIL"}  # fmt: skip
        if params["promo_code"]:
            answer["promo_code"] = params["promo_code"]
        if line["success"]:
            answer["message"] = "Reminder with promo sent successfully" if params["promo_code"] else (
                "Reminder sent successfully")  # fmt: skip
        else:
            reason = line.get("skipped") or line.get("error")
            answer["message"] = f"Reminder not sent: {reason}"
            answer["reason"] = reason
        return Response(answer)


class SendBulkView(_OperatorView):
    def post(self, request):
        started = time.monotonic()
        body = SendBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data, organization = body.validated_data, _organization(request)
        params = _send_params(data, organization)
        correlation_id = correlation.get_or_new()
        run = smartengage.smartengage_send(
            organization=organization, customer_ids=data["customer_ids"], params=params,
            correlation_id=correlation_id, kind=SmartEngageRun.Kind.BULK,
            bypass_frequency_caps=data["bypass_frequency_caps"],
        )  # fmt: skip
        result = smartengage.campaign_result(run)
        found = {line["customer_id"] for line in result["results"]}
        unknown = [{"customer_id": str(pk), "success": False, "error": "USER_NOT_FOUND"}
                   for pk in dict.fromkeys(data["customer_ids"]) if str(pk) not in found]  # fmt: skip
        return Response({
            "status": "completed", "total_eligible": result["total_eligible"], "sent": result["sent"],
            "failed": result["failed"] + len(unknown), "skipped": result["skipped"],
            "results": result["results"] + unknown, "duration_seconds": round(time.monotonic() - started, 3),
            "correlation_id": correlation_id,
        })  # fmt: skip


# --- jobs/history ----------------------------------------------------------------------------------


class JobHistoryView(APIView):
    authentication_classes = [InternalTokenAuthentication]
    permission_classes = [IsInternalCaller]

    def get(self, request):
        kind = request.query_params.get("type", "smartengage")
        try:
            limit = min(max(int(request.query_params.get("limit", 20)), 1), 100)
            offset = max(int(request.query_params.get("offset", 0)), 0)
        except ValueError:
            raise ApplicationError("INVALID_REQUEST", "limit and offset must be whole numbers.") from None
        if kind != "smartengage":
            raise ApplicationError("INVALID_REQUEST", "type must be 'smartengage'.")
        runs = SmartEngageRun.objects.select_related("execution")
        if cid := request.query_params.get("correlation_id"):
            runs = runs.filter(Q(correlation_id=cid))
        total = runs.count()
        page = list(runs[offset : offset + limit])
        counts = smartengage.run_counts([run.execution_id for run in page if run.execution_id])
        field = serializers.DateTimeField()
        rows = []
        for run in page:
            finished = smartengage.run_finished_at(run)
            numbers = counts.get(run.execution_id, {})
            rows.append({
                "correlation_id": run.correlation_id, "type": "smartengage", "kind": run.kind,
                "status": smartengage.run_status(run), "started_at": field.to_representation(run.started_at),
                "finished_at": field.to_representation(finished) if finished else None,
                "duration_seconds": round((finished - run.started_at).total_seconds(), 3) if finished else None,
                **{key: numbers.get(key, 0) for key in ("total_eligible", "sent", "failed", "skipped")},
                "error": run.error or None,
            })  # fmt: skip
        return Response({"runs": rows, "total": total, "limit": limit, "offset": offset,
                         "has_more": offset + len(page) < total})  # fmt: skip
