"""Validators of contact fields, on the model so the API, the CSV import and the admin agree."""

import json
from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

CONSENT_CHANNELS = ("marketing", "email", "sms", "whatsapp", "push")
MAX_ATTRIBUTE_KEYS = 200
MAX_ATTRIBUTES_SIZE = 16_384

validate_locale = RegexValidator(
    r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$", "Enter a language tag such as bn, en or en-US.", code="invalid"
)
validate_phone = RegexValidator(
    r"^\+?[0-9][0-9 ().-]{2,30}$", "Enter a phone number: digits, spaces, dots, dashes or brackets.", code="invalid"
)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(
            "%(value)r is not an IANA timezone such as Asia/Dhaka.", code="invalid", params={"value": value}
        )


def validate_consent(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Consent is an object of channel: true/false.", code="dict_type")
    for channel, granted in value.items():
        if channel not in CONSENT_CHANNELS:
            raise ValidationError(
                "Unknown consent channel %(channel)r; the channels are %(channels)s.",
                code="invalid",
                params={"channel": channel, "channels": ", ".join(CONSENT_CHANNELS)},
            )
        if not isinstance(granted, bool):
            raise ValidationError(
                "Consent for %(channel)s is true or false.", code="bool_type", params={"channel": channel}
            )


def validate_attributes(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Attributes are a JSON object.", code="dict_type")
    if len(value) > MAX_ATTRIBUTE_KEYS:
        raise ValidationError("At most %(max)d attributes.", code="too_long", params={"max": MAX_ATTRIBUTE_KEYS})
    for key in value:
        # A dot in a key would make it unreachable: segments read "attributes.a.b" as a nested path.
        if not key or len(key) > 64 or "." in key:
            raise ValidationError(
                "Attribute names have 1 to 64 characters and no dot: %(key)r.", code="invalid", params={"key": key}
            )
    if len(json.dumps(value, ensure_ascii=False)) > MAX_ATTRIBUTES_SIZE:
        raise ValidationError(
            "Attributes take at most %(max)d characters of JSON.", code="too_long", params={"max": MAX_ATTRIBUTES_SIZE}
        )
