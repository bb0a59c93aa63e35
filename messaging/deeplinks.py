"""Booking deep links (seed 003's T033): a signed JWT naming customer, service, promo and expiry.

`GET /book?token=…` verifies the token, records a click on the message that
carried it, and redirects to the booking app with the token and its claims.
The signature is HMAC-SHA256 with a key derived from SECRET_KEY, so a token
cannot be altered and an expired one is refused with 410 rather than 400.
"""

from datetime import timedelta
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

ALGORITHM = "HS256"
AUDIENCE = "shokti:book"


class DeepLinkInvalid(ValueError):
    """A token that was altered, truncated or signed with another key."""


class DeepLinkExpired(DeepLinkInvalid):
    """A genuine token past its `exp`."""


def _key() -> str:
    # A key of its own per purpose: a leaked deep-link key signs nothing else.
    return salted_hmac("shokti.messaging.deeplinks", "booking", algorithm="sha256").hexdigest()


def booking_token(*, customer_id, service_id, promo_code: str | None, ttl_hours: int, message_pk: int | None) -> str:
    """A signed token that expires `ttl_hours` from now."""
    now = timezone.now()
    claims = {
        "sub": str(customer_id),
        "service_id": str(service_id) if service_id else None,
        "promo": promo_code or None,
        "mid": message_pk,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(hours=ttl_hours),
    }
    return jwt.encode(claims, _key(), algorithm=ALGORITHM)


def booking_url(**claims) -> str:
    """The absolute /book URL carrying a fresh token (see `booking_token` for the arguments)."""
    return f"{settings.SHOKTI_PUBLIC_URL}/book?{urlencode({'token': booking_token(**claims)})}"


def read_booking_token(token: str) -> dict:
    """The claims of a valid token; DeepLinkExpired or DeepLinkInvalid otherwise."""
    try:
        return jwt.decode(token, _key(), algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as error:
        raise DeepLinkExpired("This booking link has expired.") from error
    except jwt.InvalidTokenError as error:
        raise DeepLinkInvalid("This booking link is not valid.") from error


def booking_app_url(token: str, claims: dict) -> str:
    """Where the landing sends the customer: the booking app, with the service and promo to pre-fill."""
    query = {"token": token, "customer_id": claims["sub"]}
    if claims.get("service_id"):
        query["service_id"] = claims["service_id"]
    if claims.get("promo"):
        query["promo"] = claims["promo"]
    return f"{settings.SHOKTI_BOOKING_APP_URL}?{urlencode(query)}"
