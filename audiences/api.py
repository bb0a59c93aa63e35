"""REST API of contacts and segments under /api/v1/: thin viewsets over audiences.services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from audiences import csv_io, segments, services
from audiences.filters import ContactFilter, SegmentFilter
from audiences.models import Contact, Segment
from audiences.validators import CONSENT_CHANNELS, validate_timezone
from shokti.pagination import EnvelopePagination
from shokti.scoping import OrganizationScopedMixin


@extend_schema_field(
    {
        "type": "object",
        "properties": {channel: {"type": "boolean"} for channel in CONSENT_CHANNELS},
        "additionalProperties": False,
    }
)
class ConsentField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": True, "example": {"plan": "premium", "age": 34}})
class AttributesField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "object"},
        "description": "Conditions and groups, ANDed; the grammar is in the operation's description.",
        "example": [
            {"field": "attributes.plan", "operator": "eq", "value": "premium"},
            {"field": "events.count", "event_type": "app_open", "window_days": 30, "operator": "gte", "value": 3},
        ],
    }
)
class ConditionsField(serializers.JSONField):
    pass


class ContactSerializer(serializers.ModelSerializer):
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=64,
        validators=[validate_timezone],
        help_text="IANA timezone; the organization's when absent or empty.",
    )
    consent = ConsentField(
        required=False,
        validators=Contact._meta.get_field("consent").validators,
        help_text="Channel: true/false, merged into the current consent (marketing is granted by default). "
        "A message needs marketing true and its channel not false.",
    )
    attributes = AttributesField(
        required=False,
        validators=Contact._meta.get_field("attributes").validators,
        help_text="Free-form values, merged key by key on update; a key set to null is removed.",
    )

    class Meta:
        model = Contact
        fields = [
            "external_id",
            "email",
            "phone",
            "first_name",
            "last_name",
            "locale",
            "timezone",
            "consent",
            "attributes",
            "last_booking_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["last_booking_at", "created_at", "updated_at"]
        extra_kwargs = {
            "external_id": {"help_text": "The contact's id in your systems: events' user_id. Fixed once set."}
        }

    def validate_external_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.external_id:
            raise serializers.ValidationError("The external_id of a contact cannot change.", code="frozen")
        return value

    def to_representation(self, contact: Contact) -> dict:
        data = super().to_representation(contact)
        data["timezone"] = contact.effective_timezone
        return data


class SegmentSerializer(serializers.ModelSerializer):
    segment_id = serializers.RegexField(
        r"^seg_[A-Za-z0-9_]{1,60}$",
        source="public_id",
        required=False,
        help_text="seg_… ; chosen at creation (e.g. seg_premium_users) or generated. Fixed once set.",
    )
    conditions = ConditionsField()

    class Meta:
        model = Segment
        fields = [
            "segment_id",
            "name",
            "description",
            "conditions",
            "estimated_size",
            "estimated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["estimated_size", "estimated_at", "created_at", "updated_at"]

    def validate_segment_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.public_id:
            raise serializers.ValidationError("The segment_id of a segment cannot change.", code="frozen")
        return value


class CsvBodyParser(BaseParser):
    """A text/csv body is handed over unread: the import streams it."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream


def _envelope_pagination(key: str) -> type[EnvelopePagination]:
    """The shared list envelope, with its real key in the OpenAPI schema."""

    class Pagination(EnvelopePagination):
        def get_paginated_response_schema(self, schema):
            body = super().get_paginated_response_schema(schema)
            body["properties"] = {key: body["properties"].pop("items"), **body["properties"]}
            body["required"] = [key, *body["required"]]
            return body

    return Pagination


class _ObjectEnvelopeMixin:
    """Single objects answer as {"<object_key>": {…}}, as seed 004's bodies do."""

    object_key: str

    def retrieve(self, request, *args, **kwargs):
        return self._wrap(super().retrieve(request, *args, **kwargs))

    def create(self, request, *args, **kwargs):
        return self._wrap(super().create(request, *args, **kwargs))

    def update(self, request, *args, **kwargs):
        return self._wrap(super().update(request, *args, **kwargs))

    def _wrap(self, response):
        response.data = {self.object_key: response.data}
        return response


_contact_body = inline_serializer("ContactResponse", {"contact": ContactSerializer()})
_segment_body = inline_serializer("SegmentResponse", {"segment": SegmentSerializer()})
_import_report = inline_serializer(
    "ContactImportReport",
    {
        "imported": serializers.IntegerField(help_text="created + updated"),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(
            child=inline_serializer(
                "ContactImportRowError",
                {
                    "row": serializers.IntegerField(help_text="Line in the file; the header is line 1."),
                    "errors": serializers.ListField(child=serializers.DictField(), help_text="[{loc, msg, type}]"),
                },
            ),
            help_text="The first 1000 failed rows.",
        ),
    },
)


@extend_schema_view(
    list=extend_schema(summary="List contacts"),
    create=extend_schema(summary="Create a contact", responses={201: _contact_body}),
    retrieve=extend_schema(summary="Get a contact by external_id", responses=_contact_body),
    partial_update=extend_schema(summary="Update a contact", responses=_contact_body),
    destroy=extend_schema(summary="Delete a contact and its bookings"),
)
class ContactViewSet(OrganizationScopedMixin, _ObjectEnvelopeMixin, viewsets.ModelViewSet):
    queryset = Contact.objects.select_related("organization").order_by("-created_at", "-pk")
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    pagination_class = _envelope_pagination("contacts")
    envelope_key = "contacts"
    object_key = "contact"
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(organization=self.organization, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(contact=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)

    @extend_schema(
        summary="Import contacts from CSV",
        description=csv_io.__doc__,
        request={
            "multipart/form-data": inline_serializer("ContactImportUpload", {"file": serializers.FileField()}),
            "text/csv": OpenApiTypes.STR,
        },
        responses=_import_report,
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, CsvBodyParser])
    def import_csv(self, request):
        source = request.FILES.get("file") if request.content_type.startswith("multipart/") else request.data
        if not hasattr(source, "read"):
            message = "Send the CSV as the multipart field 'file' or as a text/csv body."
            raise ValidationError({"file": [ErrorDetail(message, code="required")]})
        report = services.contacts_import_csv(organization=self.organization, source=source)
        return Response(report.as_dict())


@extend_schema_view(
    list=extend_schema(summary="List segments"),
    create=extend_schema(summary="Create a segment", description=segments.__doc__, responses={201: _segment_body}),
    retrieve=extend_schema(summary="Get a segment", responses=_segment_body),
    partial_update=extend_schema(summary="Update a segment", description=segments.__doc__, responses=_segment_body),
    destroy=extend_schema(summary="Delete a segment that no campaign uses"),
)
class SegmentViewSet(OrganizationScopedMixin, _ObjectEnvelopeMixin, viewsets.ModelViewSet):
    queryset = Segment.objects.order_by("name", "pk")
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilter
    pagination_class = _envelope_pagination("segments")
    envelope_key = "segments"
    object_key = "segment"
    lookup_field = "public_id"
    lookup_url_kwarg = "segment_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.segment_create(
            organization=self.organization,
            name=data["name"],
            description=data.get("description", ""),
            conditions=data["conditions"],
            public_id=data.get("public_id"),
        )

    def perform_update(self, serializer):
        serializer.instance = services.segment_update(segment=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance):
        services.segment_delete(segment=instance)

    @extend_schema(
        summary="Count the segment's contacts now",
        description="Counts in the database and stores the figure on the segment (estimated_size, estimated_at).",
        responses=inline_serializer(
            "SegmentEstimate",
            {
                "segment_id": serializers.CharField(),
                "estimated_size": serializers.IntegerField(),
                "estimated_at": serializers.DateTimeField(),
            },
        ),
    )
    @action(detail=True, methods=["get"])
    def estimate(self, request, segment_id=None):
        segment = services.segment_refresh_estimate(segment=self.get_object())
        return Response(
            {
                "segment_id": segment.public_id,
                "estimated_size": segment.estimated_size,
                "estimated_at": serializers.DateTimeField().to_representation(segment.estimated_at),
            }
        )
