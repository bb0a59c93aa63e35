"""The in-app inbox endpoints under /api/v1/contacts/{external_id}/inbox."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from messaging.inbox import inbox_contact, inbox_message_mark_read, inbox_messages
from messaging.models import Message
from shokti.scoping import OrganizationScopedMixin


class InAppContentField(serializers.CharField):
    """One key of what the in-app channel stored in metadata["in_app"]."""

    def __init__(self, key: str, **kwargs):
        super().__init__(source="metadata", read_only=True, **kwargs)
        self.key = key

    def to_representation(self, metadata: dict) -> str:
        return str((metadata.get("in_app") or {}).get(self.key, ""))


class InboxMessageSerializer(serializers.Serializer):
    message_id = serializers.CharField(source="public_id", read_only=True)
    campaign_id = serializers.CharField(source="campaign.public_id", read_only=True)
    title = InAppContentField("title")
    body = InAppContentField("body")
    action_url = InAppContentField("action_url")
    icon = InAppContentField("icon")
    sent_at = serializers.DateTimeField(read_only=True)
    opened_at = serializers.DateTimeField(read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    def get_read(self, message: Message) -> bool:
        return message.opened_at is not None


class InboxViewSet(OrganizationScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A contact's in-app messages, as the app shows them, and their read receipts."""

    serializer_class = InboxMessageSerializer
    envelope_key = "messages"
    lookup_url_kwarg = "message_id"
    queryset = Message.objects.none()  # the real one is scoped per request

    def get_queryset(self):
        contact = inbox_contact(organization=self.organization, external_id=self.kwargs["external_id"])
        return inbox_messages(organization=self.organization, contact=contact)

    @extend_schema(summary="The contact's sent in-app messages, newest first")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Mark an in-app message read (idempotent)",
        request=None,
        responses=inline_serializer("InboxMessageRead", {"message": InboxMessageSerializer()}),
    )
    @action(detail=True, methods=["post"])
    def read(self, request, external_id: str, message_id: str):
        message = inbox_message_mark_read(
            organization=self.organization, external_id=external_id, message_id=message_id
        )
        return Response({"message": InboxMessageSerializer(message).data})
