"""Who is calling: API tokens (organization and role), the internal token, staff sessions."""

import hmac
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from shokti.models import ApiToken, Organization, Role

# last_used_at is informative; writing it once a minute spares a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def bearer_token(request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without the header, 401 when malformed."""
    header = authentication.get_authorization_header(request).decode("latin-1")
    if not header:
        return None
    keyword, _, raw = header.partition(" ")
    if keyword.lower() != "bearer" or not raw.strip():
        raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
    return raw.strip()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; sets request.auth to the ApiToken."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None:
            return None
        token = (
            ApiToken.objects.active()
            .select_related("membership__organization", "membership__user")
            .filter(key_digest=ApiToken.digest(raw))
            .first()
        )
        if token is None or not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.membership.user, token

    def authenticate_header(self, request):
        return self.keyword


class InternalCaller:
    """request.auth for a caller that presented the internal token."""

    is_authenticated = True

    def __str__(self) -> str:
        return "internal"


class InternalTokenAuthentication(authentication.BaseAuthentication):
    """`X-Internal-Token` equal to SHOKTI_INTERNAL_TOKEN (service-to-service)."""

    header = "X-Internal-Token"

    def authenticate(self, request):
        supplied = request.headers.get(self.header)
        if supplied is None:
            return None
        expected = settings.SHOKTI_INTERNAL_TOKEN
        if not expected or not hmac.compare_digest(supplied.encode(), expected.encode()):
            raise exceptions.AuthenticationFailed("Invalid internal token.")
        caller = InternalCaller()
        return caller, caller

    def authenticate_header(self, request):
        return self.header


def internal_endpoints_open() -> bool:
    """Seed 000's development mode: no token configured and DEBUG on."""
    return settings.DEBUG and not settings.SHOKTI_INTERNAL_TOKEN


def current_organization(request) -> Organization | None:
    """The organization a request acts for: its token's, or a staff user's membership."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.organization
    user = getattr(request, "user", None)
    membership = getattr(user, "membership", None) if user is not None and user.is_authenticated else None
    return membership.organization if membership else None


def current_role(request) -> str | None:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.role
    user = getattr(request, "user", None)
    membership = getattr(user, "membership", None) if user is not None and user.is_authenticated else None
    return membership.role if membership else None


class HasOrganizationRole(permissions.BasePermission):
    """An organization's token; analysts read only. Views narrow with `write_roles`."""

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        role = current_role(request)
        if role is None:
            if isinstance(request.auth, ApiToken) or request.auth is None:
                raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <token>'.")
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return role in getattr(view, "write_roles", (Role.ADMIN, Role.MARKETER))


class IsInternalCaller(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, InternalCaller) or internal_endpoints_open():
            return True
        raise exceptions.NotAuthenticated("Send the internal token in X-Internal-Token.")
