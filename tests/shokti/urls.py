"""Test-only routes: a scoped viewset, and views that fail in the ways the envelope must cover."""

from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.models import Contact
from shokti.errors import ApplicationError
from shokti.routers import OptionalSlashRouter
from shokti.scoping import OrganizationScopedMixin
from shokti.urls import urlpatterns as shokti_urlpatterns


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "external_id", "email"]


class ScopedContactViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    queryset = Contact.objects.order_by("external_id")
    serializer_class = ContactSerializer


class CadenceSerializer(serializers.Serializer):
    booking_cadence_days = serializers.IntegerField(min_value=7, max_value=90)


class StrictBodyView(APIView):
    def post(self, request):
        CadenceSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class UnprocessableBodyView(StrictBodyView):
    validation_error_status = 422


class ExplodingView(APIView):
    def get(self, request):
        raise RuntimeError("boom")


class RuleBreakingView(APIView):
    def post(self, request):
        raise ApplicationError("INVALID_STATE_TRANSITION", "Cannot pause a draft campaign.", status=409)


router = OptionalSlashRouter()
router.register("test-contacts", ScopedContactViewSet, basename="test-contact")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/test-strict", StrictBodyView.as_view()),
    path("api/v1/test-unprocessable", UnprocessableBodyView.as_view()),
    path("api/v1/test-explode", ExplodingView.as_view()),
    path("api/v1/test-rule", RuleBreakingView.as_view()),
    *shokti_urlpatterns,
]
