from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from shokti.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    """Per-token request rate (per client address without a token), 429 with Retry-After."""

    scope = "api"

    def get_rate(self) -> str:
        # Read at request time, not import time, so the setting can change under tests.
        return settings.SHOKTI_API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            return f"throttle:api:token:{request.auth.pk}"
        return f"throttle:api:addr:{self.get_ident(request)}"
