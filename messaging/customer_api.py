"""The customers' endpoints of seed 003 (API.md): /auth/request-otp, /auth/verify-otp, /events, /services.

Body validation errors are 422, as on the other SmartEngage endpoints and as
seed 003's clients (a FastAPI service) expect; malformed JSON is 400. Every
error is the envelope of shokti.errors.
"""

import json

from django.conf import settings
from rest_framework import authentication, exceptions, parsers, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences import customer_auth
from audiences.events import events_ingest
from audiences.models import Service
from messaging.models import Message, UserResponse
from shokti.auth import bearer_token
from shokti.errors import NotFound

# event_type → the message's user_response.
RESPONSES = {
    "message_clicked": UserResponse.CLICKED,
    "message_replied": UserResponse.REPLIED,
    "booked": UserResponse.BOOKED,
    "acknowledged": UserResponse.ACKNOWLEDGED,
    "ignored": UserResponse.IGNORED,
}
# A later, weaker event never hides a stronger answer: a booking stays a booking.
STRENGTH = {
    "": 0,
    UserResponse.IGNORED: 1,
    UserResponse.CLICKED: 2,
    UserResponse.ACKNOWLEDGED: 3,
    UserResponse.REPLIED: 4,
    UserResponse.BOOKED: 5,
}


class AnyJSONParser(parsers.JSONParser):
    """JSON whatever the Content-Type: seed 001's `curl -d '{…}'` sends it as a form."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw.decode(settings.DEFAULT_CHARSET))
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error


def client_address(request) -> str:
    # REMOTE_ADDR, not X-Forwarded-For, which any caller can write.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class _CustomerView(APIView):
    parser_classes = [AnyJSONParser]
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    validation_error_status = 422

    def handle_exception(self, exc):
        if isinstance(exc, customer_auth.RateLimited):
            exc = exceptions.Throttled(wait=exc.retry_after, detail=exc.message)
        return super().handle_exception(exc)

    def body(self, request) -> dict:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        return request.data


# --- sign-in -------------------------------------------------------------------------------------------


class RequestOtpSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=255)


class RequestOtpView(_CustomerView):
    def post(self, request):
        serializer = RequestOtpSerializer(data=self.body(request))
        serializer.is_valid(raise_exception=True)
        customer_auth.request_code(email=serializer.validated_data["email"], client_address=client_address(request))
        # The same answer whether or not the email is a customer's.
        return Response(
            {
                "status": "accepted",
                "message": "If this email belongs to a customer, a sign-in code is on its way.",
                "expires_in": settings.CUSTOMER_OTP_TTL_SECONDS,
            },
            status=202,
        )


class VerifyOtpSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=255)
    otp = serializers.RegexField(r"^\s*\d{6}\s*$", max_length=16, error_messages={"invalid": "Six digits."})


class VerifyOtpView(_CustomerView):
    def post(self, request):
        serializer = VerifyOtpSerializer(data=self.body(request))
        serializer.is_valid(raise_exception=True)
        contact = customer_auth.verify_code(
            email=serializer.validated_data["email"],
            code=serializer.validated_data["otp"],
            client_address=client_address(request),
        )
        token, expires_in = customer_auth.issue_token(contact)
        return Response({"access_token": token, "token_type": "bearer", "expires_in": expires_in})


# --- customer token ------------------------------------------------------------------------------------


class CustomerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <customer token>`; request.user and request.auth are a Customer."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None:
            return None
        try:
            customer = customer_auth.read_token(raw)
        except customer_auth.CustomerTokenInvalid as error:
            raise exceptions.AuthenticationFailed(str(error)) from error
        return customer, customer

    def authenticate_header(self, request):
        return self.keyword


class IsCustomer(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, customer_auth.Customer):
            return True
        raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <token>' from /auth/verify-otp.")


# --- events --------------------------------------------------------------------------------------------


class CustomerEventSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(choices=list(RESPONSES))
    source = serializers.CharField(max_length=32)
    message_id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)


class EventsView(_CustomerView):
    """POST /events: a customer's answer to a message, kept on the message's `user_response`.

    With `message_id` (`msg_…`) the message must be the customer's own, else
    404. Without it the event applies to the customer's newest SmartEngage
    message (preferring one on the `source` channel); none is no error. The
    event is also stored as a behavioural event of the contact.
    """

    authentication_classes = [CustomerTokenAuthentication]
    permission_classes = [IsCustomer]

    def post(self, request):
        serializer = CustomerEventSerializer(data=self.body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact = request.auth.contact
        own = Message.objects.filter(contact=contact, organization_id=contact.organization_id)
        if data.get("message_id"):
            pk = Message.pk_from_public_id(data["message_id"])
            message = own.filter(pk=pk).first() if pk is not None else None
            if message is None:
                raise NotFound(f"No message {data['message_id']} of yours.")
        else:
            recent = own.exclude(agent_type="").order_by("-queued_at", "-pk")
            message = recent.filter(channel_type=data["source"]).first() or recent.first()

        response = RESPONSES[data["event_type"]]
        if message is not None and STRENGTH[response] > STRENGTH.get(message.user_response, 0):
            weaker = [value for value, strength in STRENGTH.items() if strength < STRENGTH[response]]
            Message.objects.filter(pk=message.pk, user_response__in=weaker).update(user_response=response)

        properties = {"source": data["source"], "message_id": message.public_id if message else None}
        events_ingest(
            organization=contact.organization,
            items=[{"event_type": data["event_type"], "user_id": contact.external_id, "properties": properties}],
        )
        return Response(
            {
                "status": "accepted",
                "event_type": data["event_type"],
                "message_id": message.public_id if message else None,
            },
            status=202,
        )


# --- services ------------------------------------------------------------------------------------------


class ServicesView(_CustomerView):
    """GET /services?category=&include_inactive=true: public; a customer token selects the customer's organization."""

    authentication_classes = [CustomerTokenAuthentication]

    def get(self, request):
        if isinstance(request.auth, customer_auth.Customer):
            services = Service.objects.filter(organization_id=request.auth.contact.organization_id)
        else:
            services = Service.objects.filter(organization__slug=settings.SMARTENGAGE_ORGANIZATION)
        category = request.query_params.get("category", "").strip()
        if category:
            services = services.filter(category=category)
        include_inactive = request.query_params.get("include_inactive", "").strip().lower() in {"1", "true", "yes"}
        if not include_inactive:
            services = services.filter(is_active=True)
        rows = [
            {
                "id": str(service.id),
                "name": service.name,
                "description": service.description,
                "category": service.category,
                "price": float(service.price),
                "is_active": service.is_active,
            }
            for service in services.order_by("name", "id")
        ]
        return Response({"services": rows, "total": len(rows)})
